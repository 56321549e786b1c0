#include "reconcile/verify.hpp"

#include <algorithm>

namespace podcd::reconcile {

std::map<std::string, std::string> UnmetClaims(const core::PlanResult& plan,
                                               const std::vector<core::ActualContainer>& actual,
                                               const Claims& claims) {
  std::map<std::string, std::vector<std::string>> why;
  for (const auto& name : claims.current) {
    const core::StackPlan* sp = plan.Find(name);
    if (sp == nullptr) continue;
    for (const auto& s : sp->services) {
      if (s.action == core::Action::kUnchanged) continue;
      for (const auto& r : s.reasons) why[name].push_back(s.name + ": " + r);
    }
    // An old container retired after its stack committed (Podman would not remove it) was
    // reported by the run that kept it; the next run removes it.
    const auto retired = static_cast<std::size_t>(std::count_if(
        actual.begin(), actual.end(),
        [&](const core::ActualContainer& c) { return c.stack == name && core::IsRetiredName(c.name); }));
    if (sp->leftovers.size() > retired) {
      why[name].push_back(std::to_string(sp->leftovers.size() - retired) +
                          " temporary container(s) left by an interrupted deployment");
    }
  }
  for (const auto& c : actual) {
    // Podman keeps the last healthcheck's verdict; "starting" is no verdict (no check ran since
    // it started: Podman runs no timers here, the health gate runs the checks).
    if (c.temporary || c.health != "unhealthy" || !claims.current.contains(c.stack)) continue;
    why[c.stack].push_back(c.service + ": container " + c.name + " is unhealthy");
  }
  for (const auto& name : claims.removed) {
    if (const core::StackPlan* sp = plan.Find(name)) {
      std::size_t left = sp->leftovers.size();
      for (const auto& s : sp->services) left += s.containers.size();
      why[name].push_back(std::to_string(left) + " container(s) of the removed stack remain");
    }
  }
  std::map<std::string, std::string> out;
  for (const auto& [stack, reasons] : why) {
    std::string text;
    for (const auto& r : reasons) text += (text.empty() ? "" : "; ") + r;
    out[stack] = text;
  }
  return out;
}

}  // namespace podcd::reconcile
