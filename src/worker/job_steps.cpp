#include "worker/job_steps.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"
#include "worker/plan_changes.hpp"

namespace podcd::worker {

Expected<std::vector<StackObservation>> ObserveStacks(reconcile::Engine& engine) {
  auto snap = engine.Observe(false, false);
  if (!snap) return std::unexpected(snap.error());
  std::vector<StackObservation> out;
  for (const auto& sp : snap->plan.stacks) {
    StackObservation o;
    o.name = sp.name;
    o.action = std::string(core::ToString(sp.action));
    std::set<std::string> fps;
    for (const auto& c : snap->actual) {
      if (c.stack != sp.name || c.temporary) continue;
      // Ids start with a UTC timestamp: the greatest is the newest deployment.
      if (c.deployment > o.last_deployment) {
        o.last_deployment = c.deployment;
        o.commit = c.commit;
      }
      fps.insert(c.service + "=" + c.fingerprint);
    }
    std::string joined;
    for (const auto& f : fps) joined += f + "\n";
    o.fingerprint = fps.empty() ? "" : Sha256Hex(joined).substr(0, 16);
    for (const auto& svc : sp.services) {
      for (const auto& r : svc.reasons) {
        if (r.starts_with("container ") || r.find("containers for one service") != std::string::npos)
          o.drifted = true;
      }
    }
    std::map<std::string, core::CanonicalFields> desired;
    if (auto m = snap->desired.models.find(sp.name); m != snap->desired.models.end()) {
      for (const auto& svc : m->second.services) desired[svc.name] = core::Canonicalize(m->second, svc);
    }
    o.services = ServicesOf(sp, snap->actual);
    for (const auto& r : sp.reasons) o.reasons.push_back(log::Masked(r));
    for (const auto& n : sp.notes) o.notes.push_back(log::Masked(n));
    // The old values are read only for a stack whose plan names changes: most stacks have none,
    // and this runs for every view of /stacks.
    const bool any_reason = std::any_of(sp.services.begin(), sp.services.end(),
                                        [](const core::ServicePlan& s) { return !s.reasons.empty(); });
    o.changes = PlanChanges(sp, desired, snap->actual,
                            any_reason ? reconcile::ReadDeployed(engine.Config()->state_dir, sp.name).services
                                       : reconcile::DeployedFields{});
    out.push_back(std::move(o));
  }
  return out;
}

Expected<void> CloseHandOver(const reconcile::HandOver& h, const config::Config& cfg,
                             reconcile::Runtime& runtime, reconcile::Engine& engine,
                             reconcile::RunContext& ctx, const std::atomic<bool>& stopping) {
  const std::filesystem::path dir = cfg.state_dir;
  log::Info("a self-update is pending: waiting for its result before the first reconcile",
            {{"deployment", h.deployment}, {"updater", h.updater}});
  auto waited = reconcile::AwaitUpdaterResult(runtime, h, dir, reconcile::RealClock(),
                                              reconcile::HandOverTimeout(cfg), stopping);
  for (const auto& note : waited.notes)
    log::Warn(note, {{"deployment", h.deployment}, {"updater", h.updater}});
  const auto& result = waited.result;
  if (stopping && !result) {
    ctx.HandOver();
    return Fail(ErrorCode::kUnavailable, "stopping: the self-update is left for the next start");
  }
  // Let the updater print its last line and end before its logs are copied and it is removed.
  auto updater_running = [&] { return !reconcile::UpdaterEnded(runtime, h.updater, reconcile::RealClock()); };
  for (int i = 0; i < 40 && updater_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  for (auto& line : reconcile::UpdaterLog(runtime, h.updater, 200)) ctx.Log(std::move(line));
  for (const auto& note : waited.notes) ctx.Log("[" + h.stack + "] " + note);
  state::StackOutcome outcome{h.stack, "failed", "", 0};
  if (result) {
    for (const auto& l : result->log) ctx.Log("[" + h.stack + "] " + l);
    outcome = {h.stack, result->outcome, result->reason, result->duration_ms};
  } else {
    outcome.reason = "the updater " + h.updater + " ended, vanished or timed out without a result";
    ctx.Log("[" + h.stack + "] self-update failed: " + outcome.reason);
  }
  ctx.SetStackOutcome(outcome);
  const bool ok = result && result->ok;
  ctx.Log(ok ? "self-update done: this podcd runs the new version"
             : "self-update failed: this podcd is the previous version, rolled back");
  if (result && !result->ok && !result->stack_key.empty()) engine.RememberFailure(h.stack, result->stack_key);
  (void)runtime.Remove(h.updater);
  // A create sent by a killed updater can reach Podman after the updater that resumed listed the
  // containers: what it left under a temporary name is recovered here rather than left for the
  // next run.
  if (auto snap = engine.Observe(false, true)) {
    for (const auto& r : snap->recovered) ctx.Log("[" + h.stack + "] recovered: " + r);
  }
  reconcile::ClearHandOver(dir);
  std::vector<std::string> failed;
  if (!h.earlier_failures.empty()) failed.push_back(h.earlier_failures);
  if (!ok) failed.push_back(h.stack);
  if (!failed.empty()) return Fail(ErrorCode::kInternal, "failed stacks: " + Join(failed, ", "));
  return {};
}

}  // namespace podcd::worker
