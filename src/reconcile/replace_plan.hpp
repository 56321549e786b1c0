// The plan of one service's change as steps, apart from their effects: a new service (create,
// start, gate), a replacement (the new container under the temporary name beside the old one,
// or after it for a service that holds host ports or shares namespaces), or a namespace
// owner replaced with the services that join it, as one group. Each step says what a failure
// of it means; the rollback steps put the old containers back. replace_steps.cpp runs them
// through the Runtime.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "reconcile/outcome.hpp"

namespace podcd::reconcile {

// What a plan needs to know of a service.
struct ReplaceTarget {
  std::string service;
  bool publishes_host_ports = false;
  bool shares_namespace = false;  // network_mode, pid or ipc service:/container:
};

enum class StepOp {
  kCreate,       // the new container, under the temporary name when `temporary`
  kStart,        // the new container
  kMarkStarted,  // tell its dependents (service_started) it runs
  kGate,         // the health gate on the new container
  kDeferCheck,   // no gate: the applier checks once, at the end, that it still runs
  kMarkGap,      // from here, no container of the group is missing: the gap is what passed
  kDisconnect,   // the old containers off the service's networks (their DNS names go along)
  kStopOld,      // the old containers, with the service's grace period; the gap starts
  kRemoveOld,    // the old containers
  kRename,       // the new container to its final name
  kCleanupNew,   // rollback: stop and remove the new container, if one was created
  kStartOld,     // rollback: start the old containers again, if they were stopped
  kAlias,        // the new container takes the service's DNS aliases (created `unlisted`)
};

// What a failed step means.
enum class OnError {
  kWarn,      // log a warning and go on
  kFail,      // the change fails, nothing to undo
  kRollback,  // the change fails and the rollback steps run
};

struct Step {
  StepOp op = StepOp::kCreate;
  std::size_t member = 0;   // 0: the service (the owner of a group); k: its k-th joiner
  bool temporary = false;   // kCreate: under the temporary name
  bool join_owner = false;  // kCreate of a joiner: into the new owner's namespaces, by its id
  // kCreate: on its networks under the temporary name only, without the service's aliases, so
  // that no client is sent to it before it passed its gate (kAlias adds them).
  bool unlisted = false;
  OnError on_error = OnError::kWarn;
  std::string what;        // the failure reason's prefix ("start", "tunnel gate", ...)
  std::string kept;        // appended to a kFail reason (" (old container kept)")
  bool with_logs = false;  // the reason ends with the new container's last log lines
};

struct ReplacementPlan {
  std::vector<ReplaceTarget> members;  // [0] the service or owner, then its joiners
  bool replaces = false;               // false: a new service (a failure is `failed`, no gap)
  std::vector<Step> steps;
  std::vector<Step> rollback;  // skipped where nothing was created or stopped
  std::string rollback_log;    // the log line's start when rolled back ("" for none)
  // The steps from `commit` on finish the change after its gates: the old containers leave,
  // stop and go, the new ones take their names. A stack deploys as one transaction: they run
  // only once every change of the stack passed its gates; until then `rollback` undoes it.
  std::size_t commit = 0;
};

// True for a step that finishes a change (see ReplacementPlan::commit).
bool Finishes(StepOp op);
// Where a plan's commit starts: its longest tail of steps that finish.
std::size_t CommitIndex(const std::vector<Step>& steps);

// A service that does not run yet. `defer_gate`: settle-gated and nobody depends on it, so it
// is not held for the settle time (compose does not wait either).
ReplacementPlan CreatePlan(const ReplaceTarget& service, bool defer_gate);

// A replacement of `service` with `joiners` (the services joining its namespaces that change
// too; empty for a service alone). Alone and holding neither a host port nor a namespace, the
// new container starts unlisted and passes its gate while the old one serves (no gap), takes
// the service's aliases, then the old one leaves its networks, stops and goes; otherwise the
// old one stops first. A group stops
// together (joiners first), the new owner starts and passes its gate, each new joiner joins it
// and passes its own, then the old ones go (joiners first: Podman removes no container others
// depend on); any failure starts the old owner again, then its joiners.
ReplacementPlan ReplacePlan(const ReplaceTarget& service, const std::vector<ReplaceTarget>& joiners);

// Which service replaces which others with it: for each owner being recreated, the indices of
// the changing services that join its namespaces (each joiner in one group only; an owner
// that is itself a joiner in a group is not also an owner). `recreate[i]`: service i is
// recreated; `work[i]`: created or recreated; `joins[i]`: the services whose namespaces i joins.
struct NamespaceGroup {
  std::size_t owner = 0;
  std::vector<std::size_t> joiners;
};
// A stack deploys as one transaction. Once every service's change ended (prepared: created or
// replaced and gated, its commit still to run), the stack commits when no service failed;
// otherwise every prepared change is rolled back, so that the stack runs its previous
// containers again and the services the commit added are removed.
struct StackVerdict {
  bool commit = true;
  std::vector<std::string> failed;  // the services that failed, were rolled back or skipped
};
// `outcomes[i]`: what became of `services[i]` so far (a prepared change counts as succeeded).
StackVerdict JudgeStack(const std::vector<std::string>& services,
                        const std::vector<ServiceOutcome>& outcomes);
// The reason a prepared change gives when the stack rolls it back (`replaces`: it replaced
// containers, which serve again; else it was a new service, removed).
std::string RolledBackWith(const StackVerdict& verdict, bool replaces);

std::vector<NamespaceGroup> NamespaceGroups(const std::vector<std::string>& names,
                                            const std::vector<bool>& recreate, const std::vector<bool>& work,
                                            const std::vector<std::vector<std::string>>& joins);

}  // namespace podcd::reconcile
