#include <chrono>

#include "reconcile/apply.hpp"

namespace podcd::reconcile {

StackResult RemoveStack(const core::StackPlan& plan, Runtime& runtime, const LogFn& log) {
  StackResult result;
  result.name = plan.name;
  result.outcome = StackOutcomeKind::kRemoved;
  for (const auto& s : plan.services) {
    for (const auto& id : s.containers) {
      (void)runtime.Stop(id, std::chrono::seconds(10));
      ++result.write_calls;
    }
  }
  // A container whose namespaces others joined can only go after them: what fails is tried
  // again once the rest is gone.
  std::vector<std::pair<const core::ServicePlan*, std::string>> later;
  for (const auto& s : plan.services) {
    for (const auto& id : s.containers) {
      ++result.write_calls;
      if (!runtime.Remove(id)) later.emplace_back(&s, id);
    }
  }
  for (const auto& [s, id] : later) {
    ++result.write_calls;
    if (auto r = runtime.Remove(id); !r && r.error().code != ErrorCode::kNotFound) {
      result.ok = false;
      result.reason = "remove " + s->name + ": " + r.error().What();
    }
  }
  for (const auto& s : plan.services)
    result.services.push_back({s.name, ServiceOutcome::kRemoved, "stack removed from the repository", 0, -1});
  for (const auto& id : plan.leftovers) {
    (void)runtime.Remove(id);
    ++result.write_calls;
  }
  if (auto nets = runtime.StackNetworks(plan.name)) {
    for (const auto& n : *nets) {
      if (auto r = runtime.RemoveNetwork(n); r) {
        ++result.write_calls;
        log("removed network " + n);
      } else {
        log("warning: network " + n + " kept: " + r.error().What());
      }
    }
  }
  if (auto vols = runtime.StackVolumes(plan.name); vols && !vols->empty()) {
    std::string names;
    for (const auto& v : *vols) names += (names.empty() ? "" : ", ") + v;
    log("stack " + plan.name + " removed; its volumes are kept: " + names);
  } else {
    log("stack " + plan.name + " removed");
  }
  if (!result.ok) result.outcome = StackOutcomeKind::kFailed;
  return result;
}

std::vector<std::string> RecoverTemporaries(const std::vector<core::ActualContainer>& actual,
                                            Runtime& runtime, std::string_view own_container) {
  std::vector<std::string> done;
  for (const auto& t : actual) {
    if (!t.temporary) continue;
    std::vector<const core::ActualContainer*> siblings;
    for (const auto& c : actual) {
      if (!c.temporary && c.stack == t.stack && c.service == t.service) siblings.push_back(&c);
    }
    if (!own_container.empty() && !t.id.empty() &&
        (t.id.starts_with(own_container) || own_container.starts_with(t.id))) {
      // Never stopped nor removed: that would leave no podcd. Once its old container is gone,
      // a rename (which stops nothing) makes it its service's container again; left under
      // the temporary name, its own stack would be skipped for ever.
      if (siblings.empty() && runtime.Rename(t.id, core::FinalName(t.name))) {
        done.push_back("finished " + t.name + " as " + core::FinalName(t.name) + " (this podcd runs in it)");
        continue;
      }
      done.push_back("left alone " + t.name + ": this podcd runs in it");
      continue;
    }
    if (siblings.empty() && t.running) {
      // Interrupted after the old container was removed: the new one is the service now.
      if (runtime.Rename(t.id, core::FinalName(t.name))) {
        done.push_back("finished " + t.name + " as " + core::FinalName(t.name));
        continue;
      }
    }
    (void)runtime.Stop(t.id, std::chrono::seconds(5));
    if (auto r = runtime.Remove(t.id); r)
      done.push_back("removed leftover " + t.name);
    else
      done.push_back("could not remove leftover " + t.name + ": " + r.error().What());
    // Interrupted between stopping the old container and finishing: bring the old one back.
    for (const auto* old : siblings) {
      if (!old->running && runtime.Start(old->id)) done.push_back("restarted " + old->name);
    }
  }
  return done;
}

}  // namespace podcd::reconcile
