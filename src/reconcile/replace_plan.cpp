#include "reconcile/replace_plan.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace podcd::reconcile {
namespace {

Step Make(StepOp op, std::size_t member, OnError on_error, std::string what = {}, bool with_logs = false) {
  Step s;
  s.op = op;
  s.member = member;
  s.on_error = on_error;
  s.what = std::move(what);
  s.with_logs = with_logs;
  return s;
}

void StopOld(ReplacementPlan& plan, std::size_t member) {
  plan.steps.push_back(Make(StepOp::kStopOld, member, OnError::kWarn));
}

void RemoveOld(ReplacementPlan& plan, std::size_t member) {
  plan.steps.push_back(Make(StepOp::kRemoveOld, member, OnError::kRollback, "remove old container"));
}

void StartOld(ReplacementPlan& plan, std::size_t member) {
  plan.rollback.push_back(Make(StepOp::kStartOld, member, OnError::kWarn));
}

Step Create(std::size_t member, bool temporary, OnError on_error, std::string what, std::string kept = {}) {
  Step s = Make(StepOp::kCreate, member, on_error, std::move(what));
  s.temporary = temporary;
  s.kept = std::move(kept);
  return s;
}

ReplacementPlan Alone(const ReplaceTarget& service) {
  ReplacementPlan plan;
  plan.members = {service};
  plan.replaces = true;
  // Zero downtime when nothing forces the old container to go first: no host port to free,
  // no namespace shared with another container.
  const bool overlap = !service.publishes_host_ports && !service.shares_namespace;
  plan.steps.push_back(Create(0, true, OnError::kFail, "create", " (old container kept)"));
  // Podman's DNS answers a container's aliases from its start, long before its server listens:
  // clients would be refused by it until the gate passed. It serves the aliases once gated.
  plan.steps.back().unlisted = overlap;
  if (!overlap) StopOld(plan, 0);
  plan.steps.push_back(Make(StepOp::kStart, 0, OnError::kRollback, "start", true));
  plan.steps.push_back(Make(StepOp::kMarkGap, 0, OnError::kWarn));
  plan.steps.push_back(Make(StepOp::kMarkStarted, 0, OnError::kWarn));
  plan.steps.push_back(Make(StepOp::kGate, 0, OnError::kRollback, "gate", true));
  if (overlap) {
    plan.steps.push_back(Make(StepOp::kAlias, 0, OnError::kRollback, "aliases"));
    // Off the networks first: a stopped container keeps its DNS names until Podman's cleanup
    // runs, so clients would still be sent to it for a moment and be refused.
    plan.steps.push_back(Make(StepOp::kDisconnect, 0, OnError::kWarn));
    StopOld(plan, 0);
  }
  RemoveOld(plan, 0);
  plan.steps.push_back(Make(StepOp::kRename, 0, OnError::kWarn));
  plan.rollback.push_back(Make(StepOp::kCleanupNew, 0, OnError::kWarn));
  StartOld(plan, 0);
  plan.rollback_log = service.service + ": rolled back to the old container";
  return plan;
}

}  // namespace

ReplacementPlan CreatePlan(const ReplaceTarget& service, bool defer_gate) {
  ReplacementPlan plan;
  plan.members = {service};
  plan.steps.push_back(Create(0, false, OnError::kFail, "create"));
  plan.steps.push_back(Make(StepOp::kStart, 0, OnError::kRollback, "start", true));
  plan.steps.push_back(Make(StepOp::kMarkStarted, 0, OnError::kWarn));
  if (defer_gate) {
    plan.steps.push_back(Make(StepOp::kDeferCheck, 0, OnError::kWarn));
  } else {
    plan.steps.push_back(Make(StepOp::kGate, 0, OnError::kRollback, "gate", true));
  }
  plan.rollback.push_back(Make(StepOp::kCleanupNew, 0, OnError::kWarn));
  plan.commit = CommitIndex(plan.steps);
  return plan;
}

ReplacementPlan ReplacePlan(const ReplaceTarget& service, const std::vector<ReplaceTarget>& joiners) {
  if (joiners.empty()) {
    ReplacementPlan plan = Alone(service);
    plan.commit = CommitIndex(plan.steps);
    return plan;
  }
  ReplacementPlan plan;
  plan.members = {service};
  plan.members.insert(plan.members.end(), joiners.begin(), joiners.end());
  plan.replaces = true;
  const std::size_t n = plan.members.size();
  const std::string& owner = service.service;
  plan.steps.push_back(Create(0, true, OnError::kFail, "create " + owner, " (old containers kept)"));
  // The old joiners live in the old owner's namespaces: they stop first.
  for (std::size_t k = 1; k < n; ++k) StopOld(plan, k);
  StopOld(plan, 0);
  plan.steps.push_back(Make(StepOp::kStart, 0, OnError::kRollback, owner + " start", true));
  plan.steps.push_back(Make(StepOp::kGate, 0, OnError::kRollback, owner + " gate", true));
  for (std::size_t k = 1; k < n; ++k) {
    const std::string& name = plan.members[k].service;
    Step create = Create(k, true, OnError::kRollback, name + " create");
    create.join_owner = true;  // by id: the owner's final name is still the old one's
    plan.steps.push_back(std::move(create));
    plan.steps.push_back(Make(StepOp::kStart, k, OnError::kRollback, name + " start", true));
    plan.steps.push_back(Make(StepOp::kGate, k, OnError::kRollback, name + " gate", true));
  }
  plan.steps.push_back(Make(StepOp::kMarkGap, 0, OnError::kWarn));
  // Podman removes no container that others depend on: the old joiners go first.
  for (std::size_t k = 1; k < n; ++k) RemoveOld(plan, k);
  RemoveOld(plan, 0);
  for (std::size_t k = 0; k < n; ++k) plan.steps.push_back(Make(StepOp::kRename, k, OnError::kWarn));
  // Back: the new joiners go (last created first), then the new owner; the old owner starts
  // before its joiners, which join its namespaces again.
  for (std::size_t k = n - 1; k >= 1; --k)
    plan.rollback.push_back(Make(StepOp::kCleanupNew, k, OnError::kWarn));
  plan.rollback.push_back(Make(StepOp::kCleanupNew, 0, OnError::kWarn));
  for (std::size_t k = 0; k < n; ++k) StartOld(plan, k);
  plan.rollback_log = owner + " and the services in its namespaces: rolled back to the old containers";
  plan.commit = CommitIndex(plan.steps);
  return plan;
}

bool Finishes(StepOp op) {
  switch (op) {
    case StepOp::kDisconnect:
    case StepOp::kStopOld:
    case StepOp::kRemoveOld:
    case StepOp::kRename: return true;
    case StepOp::kCreate:
    case StepOp::kStart:
    case StepOp::kMarkStarted:
    case StepOp::kGate:
    case StepOp::kDeferCheck:
    case StepOp::kMarkGap:
    case StepOp::kCleanupNew:
    case StepOp::kStartOld:
    // Before the commit: a gated new container serves the service's names beside the old one
    // while the rest of the stack is gated; if the stack rolls back, it goes, the old stays.
    case StepOp::kAlias: return false;
  }
  return false;
}

std::size_t CommitIndex(const std::vector<Step>& steps) {
  std::size_t i = steps.size();
  while (i > 0 && Finishes(steps[i - 1].op)) --i;
  return i;
}

StackVerdict JudgeStack(const std::vector<std::string>& services,
                        const std::vector<ServiceOutcome>& outcomes) {
  StackVerdict verdict;
  for (std::size_t i = 0; i < services.size() && i < outcomes.size(); ++i) {
    if (!FailsStack(outcomes[i])) continue;
    verdict.commit = false;
    verdict.failed.push_back(services[i]);
  }
  return verdict;
}

std::string RolledBackWith(const StackVerdict& verdict, bool replaces) {
  std::string names;
  for (const auto& f : verdict.failed) names += (names.empty() ? "" : ", ") + f;
  return std::string(replaces ? "rolled back" : "removed") + " with the stack: " + names + " failed";
}

std::vector<NamespaceGroup> NamespaceGroups(const std::vector<std::string>& names,
                                            const std::vector<bool>& recreate, const std::vector<bool>& work,
                                            const std::vector<std::vector<std::string>>& joins) {
  std::map<std::size_t, std::vector<std::size_t>> groups;
  std::set<std::size_t> in_group;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!recreate[i]) continue;
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (j == i || !work[j] || in_group.contains(j) || groups.contains(j)) continue;
      if (std::find(joins[j].begin(), joins[j].end(), names[i]) == joins[j].end()) continue;
      groups[i].push_back(j);
      in_group.insert(j);
    }
  }
  std::vector<NamespaceGroup> out;
  for (auto& [owner, members] : groups) out.push_back({owner, std::move(members)});
  return out;
}

}  // namespace podcd::reconcile
