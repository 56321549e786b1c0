// `podcd plan [--json] [--no-sync]`: sync the repository, compare it with the running
// containers (Podman is only read), print the plan. Exit 0: nothing to do; 3: work to do.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "util/log.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage = "usage: podcd plan [--json] [--no-sync]\n";

void PrintTable(const reconcile::Snapshot& snap, bool prune) {
  std::printf("commit %s\n\n", snap.commit.empty() ? "(work tree, not synced)" : snap.commit.c_str());
  std::printf("%-28s %-10s %s\n", "STACK / SERVICE", "ACTION", "REASONS");
  for (const auto& st : snap.plan.stacks) {
    std::string action(core::ToString(st.action));
    if (st.action == core::Action::kRemove && !prune) action += " (prune off: kept)";
    std::string reasons;
    if (st.action == core::Action::kInvalid || st.action == core::Action::kRefused) {
      for (const auto& r : st.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    } else if (!st.leftovers.empty()) {
      reasons = st.reasons.back();
    }
    std::printf("%-28s %-10s %s\n", st.name.c_str(), action.c_str(), reasons.c_str());
    for (const auto& n : st.notes) std::printf("  note: %s\n", n.c_str());
    for (const auto& sv : st.services) {
      std::string r;
      for (const auto& x : sv.reasons) r += (r.empty() ? "" : ", ") + x;
      std::printf("  %-26s %-10s %s\n", sv.name.c_str(), std::string(core::ToString(sv.action)).c_str(),
                  r.c_str());
    }
  }
}

// What a plan prints is masked like a log line, before it is formatted or escaped: a problem may
// quote a value read from the secrets directory (registered as the stacks loaded).
void Mask(core::PlanResult& plan) {
  for (auto& st : plan.stacks) {
    for (auto& r : st.reasons) log::MaskSecrets(r);
    for (auto& n : st.notes) log::MaskSecrets(n);
    for (auto& sv : st.services) {
      for (auto& r : sv.reasons) log::MaskSecrets(r);
    }
  }
}

}  // namespace

int Plan(const GlobalOptions& g, const Args& args) {
  bool json = false;
  bool sync = true;
  for (const auto& a : args) {
    if (a == "--json")
      json = true;
    else if (a == "--no-sync")
      sync = false;
    else {
      std::fprintf(stderr, "podcd plan: unexpected argument \"%s\"\n%s", a.c_str(), kUsage);
      return kExitUsage;
    }
  }
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  reconcile::PodmanRuntime runtime(podman::OptionsFromConfig(**cfg));
  reconcile::Engine engine(*cfg, reconcile::ChildProcessSync(), runtime, reconcile::RealClock());
  auto snap = engine.Observe(sync, false);
  if (!snap) {
    std::fprintf(stderr, "podcd plan: %s\n", snap.error().What().c_str());
    return kExitFailure;
  }
  Mask(snap->plan);
  if (json)
    std::printf("%s\n", core::ToJson(snap->plan, snap->commit).c_str());
  else
    PrintTable(*snap, (*cfg)->prune);
  for (const auto& st : snap->plan.stacks) {
    if (st.NeedsApply() || (st.action == core::Action::kRemove && (*cfg)->prune)) return kExitChanges;
  }
  return kExitOk;
}

}  // namespace podcd::cli
