#include "worker/plan_changes.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "util/log.hpp"

namespace podcd::worker {
namespace {

constexpr std::size_t kMaxValue = 300;

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

bool SecretName(std::string_view field) {
  if (!field.starts_with("environment.")) return false;
  std::string name(field.substr(12));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  for (std::string_view word : {"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// A canonical value for people: a plain JSON string without its quotes, masked, cut.
std::string Shown(std::string_view field, std::string value) {
  if (SecretName(field)) return "***";
  // A map field's own entry counts its keys ("{3}"); each key is a field of its own.
  if (value.size() > 2 && value.front() == '{' && value.back() == '}' &&
      value.find_first_not_of("0123456789", 1) == value.size() - 1) {
    const std::string n = value.substr(1, value.size() - 2);
    return n + (n == "1" ? " entry" : " entries");
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"' &&
      value.find_first_of("\"\\", 1) == value.size() - 1)
    value = value.substr(1, value.size() - 2);
  log::MaskSecrets(value);
  if (value.size() > kMaxValue) {
    std::size_t cut = kMaxValue;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
    value = value.substr(0, cut) + "…";
  }
  return value;
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
                                    const std::vector<core::ActualContainer>& actual) {
  std::vector<PlanChange> out;
  std::set<std::string> from_services;  // "svc: reason" as plan.reasons repeats them
  for (const auto& sp : plan.services) {
    const auto fields = desired.find(sp.name);
    const auto* container = ContainerOf(plan.name, sp.name, actual);
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
          c.new_value = Shown(c.field, v->second);
      }
      if (c.change != "added" && c.field == "image" && container != nullptr && !container->image.empty())
        c.old_value = Shown(c.field, container->image);
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
