#include "reconcile/force.hpp"

#include <string>

namespace podcd::reconcile {

core::StackPlan ForceRecreate(const core::StackPlan& plan) {
  core::StackPlan out = plan;
  if (out.action != core::Action::kUnchanged && out.action != core::Action::kRecreate &&
      out.action != core::Action::kCreate)
    return out;
  bool forced = false;
  for (auto& s : out.services) {
    if (s.action != core::Action::kUnchanged || s.containers.empty()) continue;
    s.action = core::Action::kRecreate;
    s.reasons.emplace_back(kForcedReason);
    out.reasons.push_back(s.name + ": " + std::string(kForcedReason));
    forced = true;
  }
  if (forced && out.action == core::Action::kUnchanged) out.action = core::Action::kRecreate;
  return out;
}

}  // namespace podcd::reconcile
