// `podcd __self-update --deployment ID` (internal): the one-shot updater container the daemon
// starts from its new image when its own stack changed (reconcile/self_update.hpp). Replaces
// the old podcd container like any service, then writes the outcome for the next podcd.
// It exits 0 whenever it wrote an outcome, failed or not: only a crash (or an OOM kill) makes
// Podman start it again (restart policy on-failure), and a restarted updater does not try the
// update again: it puts the old podcd back and reports the interruption.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/self_update.hpp"
#include "state/deployment.hpp"
#include "util/log.hpp"

namespace podcd::cli {

namespace {

// Starts the old podcd container again, a few times: the port it publishes may still be held
// for a moment by the new podcd that recovery just removed.
void StartOldPodcd(reconcile::Runtime& runtime, const std::string& container, bool running,
                   const std::function<void(const std::string&)>& log_line) {
  for (int attempt = 1; !running && attempt <= 5; ++attempt) {
    auto r = runtime.Start(container);
    if (r) return;
    log_line("error: starting the old podcd (attempt " + std::to_string(attempt) +
             " of 5): " + r.error().What());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto st = runtime.Inspect(container);
    running = st && st->running;
  }
}

}  // namespace

int InternalSelfUpdate(const GlobalOptions& g, const Args& args) {
  std::string deployment;
  if (args.size() == 2 && args[0] == "--deployment") deployment = args[1];
  if (deployment.empty()) {
    std::fprintf(stderr, "usage: podcd __self-update --deployment ID (run by podcd itself)\n");
    return kExitUsage;
  }
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  const std::filesystem::path state_dir = (*cfg)->state_dir;
  auto handover = reconcile::ReadHandOver(state_dir);
  if (!handover) {
    log::Error("cannot read the hand-over", {{"deployment", deployment}, {"error", handover.error().What()}});
    return kExitFailure;
  }
  if (!*handover || (*handover)->deployment != deployment) {
    // Closed already (the podcd that started us gave up on us): nothing to do, nothing to retry.
    log::Warn("no hand-over for this deployment in the state directory; nothing to do",
              {{"deployment", deployment}});
    return kExitOk;
  }
  const reconcile::HandOver& h = **handover;
  reconcile::HandOverResult result;
  result.deployment = deployment;
  result.outcome = "failed";
  auto log_line = [&](const std::string& line) {
    log::Info(line, {{"stack", h.stack}});
    result.log.push_back(line);
  };
  auto finish = [&]() {
    if (auto r = reconcile::WriteHandOverResult(state_dir, result); !r) {
      log::Error("cannot write the hand-over result", {{"error", r.error().What()}});
      return kExitFailure;
    }
    log::Info("self-update finished", {{"ok", result.ok ? "true" : "false"}, {"outcome", result.outcome}});
    return kExitOk;
  };
  log_line("updater for deployment " + deployment + ": replacing podcd container " +
           h.container.substr(0, 12) + " with the stack " + h.stack + " at " + h.commit.substr(0, 12));

  reconcile::PodmanRuntime runtime(reconcile::PodmanOptions(**cfg));
  // A resumed updater: Podman's restart policy bumps the restart count; a start by the waiting
  // podcd (when Podman did not restart it) shows only in the run count.
  auto self = runtime.Inspect(h.updater);
  auto runs = reconcile::RecordUpdaterRun(state_dir, deployment);
  if (!runs) log::Warn("cannot record the updater's run", {{"error", runs.error().What()}});
  const std::int64_t restarts = std::max<std::int64_t>(self ? self->restart_count : 0, runs ? *runs : 0);
  if (restarts > 0) {
    log_line("the updater was interrupted (crashed or killed) and started again (run " +
             std::to_string(restarts + 1) + "): putting the old podcd back");
  }
  // The old podcd synced the work tree for this very deployment; nothing syncs it meanwhile.
  reconcile::Engine engine(
      *cfg,
      [](const config::Config&) {
        return Expected<std::string>(Fail(ErrorCode::kInternal, "the updater never syncs"));
      },
      runtime, reconcile::RealClock());
  // After an interruption, the usual crash recovery: a new podcd left under its temporary name
  // is removed and the old container it replaced is started again.
  auto snap = engine.Observe(false, restarts > 0);
  if (snap) {
    for (const auto& r : snap->recovered) log_line("recovered: " + r);
    if (const auto* desired = snap->desired.Find(h.stack)) result.stack_key = reconcile::StackKey(*desired);
  }
  if (restarts > 0) {
    if (!snap) log_line("error: " + snap.error().What());
    if (auto old = runtime.Inspect(h.container); old) {
      // Still there, so the replacement had not finished: the old podcd is the one to run.
      StartOldPodcd(runtime, h.container, old->running, log_line);
      result.outcome = "rolled-back";
      result.reason =
          "the updater was interrupted and restarted; the old podcd runs again, the update was not retried";
      log_line(result.reason);
      return finish();
    }
    // The old container is gone: the replacement had finished. The plan below confirms the new
    // podcd (nothing to do) or creates it.
    log_line("the old podcd container is gone: the replacement had finished; checking the new one");
  }
  if (!snap) {
    result.reason = snap.error().What();
    return finish();
  }
  const core::StackPlan* plan = snap->plan.Find(h.stack);
  const core::DesiredStack* desired = snap->desired.Find(h.stack);
  if (plan == nullptr || desired == nullptr || !snap->desired.models.contains(h.stack)) {
    result.reason = "the stack " + h.stack + " is not in the work tree";
    return finish();
  }
  auto job =
      reconcile::BuildStackJob(*plan, snap->desired.models.at(h.stack), *desired, h.commit, deployment);
  if (!job) {
    result.reason = job.error().What();
    return finish();
  }
  reconcile::ServiceJob* podcd = reconcile::ServiceOfContainer(*job, h.container);
  if (podcd == nullptr && restarts > 0) {
    for (auto& s : job->services) {
      if (s.name == h.service) podcd = &s;
    }
  }
  if (podcd == nullptr) {
    result.reason =
        "the old podcd container " + h.container.substr(0, 12) + " is not part of the stack any more";
    return finish();
  }
  reconcile::PrepareSelfServiceJob(*podcd);
  auto applied = reconcile::ApplyStack(*job, runtime, reconcile::RealClock(),
                                       reconcile::GateFromConfig(**cfg), log_line);
  result.ok = applied.ok;
  result.outcome = applied.outcome;
  result.reason = applied.reason;
  result.duration_ms = applied.duration_ms;
  return finish();
}

}  // namespace podcd::cli
