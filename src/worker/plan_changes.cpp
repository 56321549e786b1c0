#include "worker/plan_changes.hpp"

#include <set>

#include "reconcile/deployed_fields.hpp"
#include "util/log.hpp"

namespace podcd::worker {
namespace {

// The service's container as the dashboard shows it: a running one before a stopped one.
const core::ActualContainer* ContainerOf(const std::string& stack, const std::string& service,
                                         const std::vector<core::ActualContainer>& actual) {
  const core::ActualContainer* found = nullptr;
  for (const auto& c : actual) {
    if (c.stack != stack || c.service != service || c.temporary) continue;
    if (found == nullptr || (c.running && !found->running)) found = &c;
  }
  return found;
}

// "environment.FOO changed" -> {"environment.FOO", "changed"}; nullopt for other reasons.
std::optional<std::pair<std::string, std::string>> FieldReason(const std::string& reason) {
  for (std::string_view word : {"changed", "added", "removed"}) {
    const std::string suffix = " " + std::string(word);
    if (reason.size() > suffix.size() && reason.ends_with(suffix)) {
      std::string field = reason.substr(0, reason.size() - suffix.size());
      if (field == "fingerprint" || field.starts_with("stack ")) return std::nullopt;
      return std::pair{field, std::string(word)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<PlanChange> PlanChanges(const core::StackPlan& plan,
                                    const std::map<std::string, core::CanonicalFields>& desired,
                                    const std::vector<core::ActualContainer>& actual,
                                    const reconcile::DeployedFields& deployed) {
  std::vector<PlanChange> out;
  std::set<std::string> from_services;  // "svc: reason" as plan.reasons repeats them
  for (const auto& sp : plan.services) {
    const auto fields = desired.find(sp.name);
    const auto* container = ContainerOf(plan.name, sp.name, actual);
    const auto before = deployed.find(sp.name);
    for (const auto& reason : sp.reasons) {
      from_services.insert(sp.name + ": " + reason);
      auto fr = FieldReason(reason);
      if (!fr) {
        out.push_back({sp.name, "", log::Masked(reason), std::nullopt, std::nullopt});
        continue;
      }
      PlanChange c{sp.name, fr->first, fr->second, std::nullopt, std::nullopt};
      if (c.change != "removed" && fields != desired.end()) {
        if (auto v = fields->second.find(c.field); v != fields->second.end())
          c.new_value = reconcile::ShownValue(c.field, v->second);
      }
      // The running container's image is the truth; the rest is what the last deployment of the
      // stack recorded (stored already shown).
      if (c.change != "added" && c.field == "image" && container != nullptr && !container->image.empty()) {
        c.old_value = reconcile::ShownValue(c.field, container->image);
      } else if (c.change != "added" && before != deployed.end()) {
        if (auto v = before->second.find(c.field); v != before->second.end()) c.old_value = v->second;
      }
      out.push_back(std::move(c));
    }
  }
  for (const auto& reason : plan.reasons) {
    if (!from_services.contains(reason))
      out.push_back({"", "", log::Masked(reason), std::nullopt, std::nullopt});
  }
  return out;
}

std::vector<ServiceObservation> ServicesOf(const core::StackPlan& plan,
                                           const std::vector<core::ActualContainer>& actual) {
  std::vector<ServiceObservation> out;
  for (const auto& sp : plan.services) {
    ServiceObservation s{sp.name, "", "", "", ""};
    if (const auto* c = ContainerOf(plan.name, sp.name, actual)) {
      s.container = c->name;
      s.status = c->status.empty() ? (c->running ? "running" : "") : c->status;
      s.health = c->health;
      s.image = c->image;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace podcd::worker
