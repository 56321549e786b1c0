// A sync (POST /actions/sync, `podcd sync`): the repository fetched and every stack planned,
// nothing deployed. Its deployment record lists each stack with what a deploy of every changed
// stack would do to it, and why, so a user sees a deploy's effect before asking for it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/plan.hpp"
#include "reconcile/select.hpp"

namespace podcd::reconcile {

// The outcome words of a planned stack.
enum class PlannedOutcome {
  kUnchanged,     // in sync: a deploy leaves it
  kWouldCreate,   // every service new
  kWouldUpdate,   // some service created or recreated
  kWouldCleanUp,  // only the leftovers of an interrupted deployment to remove
  kWouldRemove,   // gone from the repository, prune is on
  kKept,          // gone from the repository, prune is off
  kInvalid,
  kRefused,
  kBackoff,    // failed before at this fingerprint: a deploy of every changed stack skips it
  kSkipped,    // podcd's own stack, and this podcd cannot replace itself
  kSuspended,  // suspended by an operator: left alone
};
std::string_view ToString(PlannedOutcome outcome);

struct PlannedStack {
  std::string name;
  PlannedOutcome outcome = PlannedOutcome::kUnchanged;
  std::string reason;  // the plan's reasons joined with "; ", or why it is skipped
};

// Pure: every stack of `plan`, in its order, as SelectStacks would choose for a deploy of
// every changed stack under `request` (its `named` is ignored: a sync plans every stack).
std::vector<PlannedStack> PlanEveryStack(const core::PlanResult& plan, SelectRequest request);

}  // namespace podcd::reconcile
