#include "reconcile/sync_plan.hpp"

#include <map>

namespace podcd::reconcile {
namespace {

std::string JoinReasons(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

PlannedOutcome OfApply(const core::StackPlan& sp) {
  switch (sp.action) {
    case core::Action::kCreate: return PlannedOutcome::kWouldCreate;
    case core::Action::kRecreate: return PlannedOutcome::kWouldUpdate;
    default: return sp.NeedsApply() ? PlannedOutcome::kWouldCleanUp : PlannedOutcome::kUnchanged;
  }
}

PlannedStack Planned(const StackChoice& c) {
  const core::StackPlan& sp = *c.plan;
  PlannedStack p{sp.name, PlannedOutcome::kUnchanged, JoinReasons(sp.reasons)};
  switch (c.kind) {
    case StackChoice::Kind::kInvalid:
      p.outcome = sp.action == core::Action::kRefused ? PlannedOutcome::kRefused : PlannedOutcome::kInvalid;
      break;
    case StackChoice::Kind::kKept:
      p.outcome = PlannedOutcome::kKept;
      p.reason = "gone from the repository; kept (prune is off)";
      break;
    case StackChoice::Kind::kApply: p.outcome = OfApply(sp); break;
    case StackChoice::Kind::kPrune: p.outcome = PlannedOutcome::kWouldRemove; break;
    case StackChoice::Kind::kBackoff:
      p.outcome = PlannedOutcome::kBackoff;
      p.reason = c.reason;
      break;
    case StackChoice::Kind::kSkip:
      p.outcome = PlannedOutcome::kSkipped;
      p.reason = c.reason;
      break;
    case StackChoice::Kind::kSuspended:
      p.outcome = PlannedOutcome::kSuspended;
      p.reason = c.reason;
      break;
  }
  return p;
}

}  // namespace

std::string_view ToString(PlannedOutcome outcome) {
  switch (outcome) {
    case PlannedOutcome::kUnchanged: return "unchanged";
    case PlannedOutcome::kWouldCreate: return "would-create";
    case PlannedOutcome::kWouldUpdate: return "would-update";
    case PlannedOutcome::kWouldCleanUp: return "would-clean-up";
    case PlannedOutcome::kWouldRemove: return "would-remove";
    case PlannedOutcome::kKept: return "kept";
    case PlannedOutcome::kInvalid: return "invalid";
    case PlannedOutcome::kRefused: return "refused";
    case PlannedOutcome::kBackoff: return "backoff";
    case PlannedOutcome::kSkipped: return "skipped";
    case PlannedOutcome::kSuspended: return "suspended";
  }
  return "unchanged";
}

std::vector<PlannedStack> PlanEveryStack(const core::PlanResult& plan, SelectRequest request) {
  request.named.clear();
  const Selection selection = SelectStacks(plan, request);
  std::map<std::string, PlannedStack> chosen;
  for (const auto& c : selection.reported) chosen.emplace(c.plan->name, Planned(c));
  for (const auto& c : selection.run) chosen.emplace(c.plan->name, Planned(c));
  std::vector<PlannedStack> out;
  for (const auto& sp : plan.stacks) {
    if (auto it = chosen.find(sp.name); it != chosen.end())
      out.push_back(std::move(it->second));
    else
      out.push_back({sp.name, PlannedOutcome::kUnchanged, JoinReasons(sp.reasons)});
  }
  return out;
}

}  // namespace podcd::reconcile
