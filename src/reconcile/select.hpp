// Which stacks a deployment works on, apart from the work: from the plan and the trigger,
// which stacks run, which are reported and left (invalid, refused, kept without prune), which
// back off after a failure, which are pruned, which are skipped and why, and in what order.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/plan.hpp"

namespace podcd::reconcile {

struct SelectRequest {
  std::vector<std::string> named;  // the trigger's stacks; empty: every stack that changed
  bool update_images = false;      // redeploy-and-update or a pull: every named stack runs
  bool prune = false;              // stacks gone from the repository are removed
  std::string self;                // podcd's own stack (self.stack), "" for none
  std::string own_container;       // the container this podcd runs in, "" when native
  // Stacks that failed at their current fingerprint and wait: the time left.
  std::map<std::string, std::chrono::milliseconds> backing_off;
  // Stacks an operator suspended, with the reason (who, when): never applied nor pruned.
  std::map<std::string, std::string> suspended;
};

struct StackChoice {
  enum class Kind {
    kInvalid,  // invalid or refused: reported and failed, never applied
    kKept,     // gone from the repository, prune is off: logged only
    kApply,
    kPrune,      // gone from the repository: its containers and networks go
    kBackoff,    // failed before at this fingerprint: not again yet
    kSkip,       // podcd's own stack, and this podcd is not one of its containers
    kSuspended,  // suspended by an operator: reported, left alone
  };
  const core::StackPlan* plan = nullptr;
  Kind kind = Kind::kApply;
  std::string reason;      // kInvalid, kBackoff, kSkip
  bool self = false;       // podcd's own stack: applied last, alone
  bool hand_over = false;  // self, and its own service changes: an updater replaces it
};

struct Selection {
  std::optional<std::string> unknown;  // a named stack the repository does not hold
  std::vector<StackChoice> reported;   // kInvalid, kKept and kSuspended, in the plan's order
  // Named stacks that are suspended: a named deploy of one is refused (the run fails).
  std::vector<std::string> refused_suspended;
  std::vector<StackChoice> run;  // the rest, in the order they are prepared; self last
};

// Pure. Pointers in the result point into `plan`.
Selection SelectStacks(const core::PlanResult& plan, const SelectRequest& request);

// When the selected stacks run. A stack that uses a network as `external` waits for the stack
// that creates a network of that name (a proxy stack's network, shared by the apps behind it),
// so a fresh host comes up in one reconcile whatever the stacks are called.
struct StackNetworks {
  std::vector<std::string> creates;  // the networks the stack creates
  std::vector<std::string> uses;     // the networks it uses as external
};

struct StackSchedule {
  std::vector<std::size_t> order;               // indices into the stacks, in start order
  std::vector<std::vector<std::size_t>> after;  // per position in `order`: earlier positions to wait for
};

// Pure. Dependencies are kept only where they form no cycle (stacks that use each other's
// networks run in their given order; the later one then finds the network).
StackSchedule ScheduleStacks(const std::vector<StackNetworks>& stacks);

}  // namespace podcd::reconcile
