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

#include "cli/common.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/self_update.hpp"
#include "state/deployment.hpp"
#include "util/log.hpp"
#include "worker/jobs.hpp"

namespace podcd::worker {

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

// One updater run: every step writes into `result_`, which Finish() hands to the next podcd.
class Updater {
 public:
  Updater(const reconcile::HandOver& h, std::string deployment, std::filesystem::path state_dir,
          std::shared_ptr<const config::Config> cfg)
      : h_(h),
        deployment_(std::move(deployment)),
        state_dir_(std::move(state_dir)),
        cfg_(std::move(cfg)),
        runtime_(podman::OptionsFromConfig(*cfg_)) {
    result_.deployment = deployment_;
    result_.outcome = "failed";
  }

  int Run() {
    Log("updater for deployment " + deployment_ + ": replacing podcd container " +
        h_.container.substr(0, 12) + " with the stack " + h_.stack + " at " + h_.commit.substr(0, 12));
    const std::int64_t restarts = Restarts();
    // The old podcd synced the work tree for this very deployment; nothing syncs it meanwhile.
    reconcile::Engine engine(
        cfg_,
        [](const config::Config&) {
          return Expected<std::string>(Fail(ErrorCode::kInternal, "the updater never syncs"));
        },
        runtime_, reconcile::RealClock());
    // After an interruption, the usual crash recovery: a new podcd left under its temporary name
    // is removed and the old container it replaced is started again.
    auto snap = engine.Observe(false, restarts > 0);
    if (snap) {
      for (const auto& r : snap->recovered) Log("recovered: " + r);
      if (const auto* desired = snap->desired.Find(h_.stack))
        result_.stack_key = reconcile::StackKey(*desired);
    }
    if (restarts > 0) {
      if (!snap) Log("error: " + snap.error().What());
      if (PutOldPodcdBack()) return Finish();
    }
    if (!snap) {
      result_.reason = snap.error().What();
      return Finish();
    }
    Replace(*snap, restarts);
    return Finish();
  }

 private:
  void Log(const std::string& line) {
    log::Info(line, {{"stack", h_.stack}});
    result_.log.push_back(line);
  }

  int Finish() {
    if (auto r = reconcile::WriteHandOverResult(state_dir_, result_); !r) {
      log::Error("cannot write the hand-over result", {{"error", r.error().What()}});
      return cli::kExitFailure;
    }
    log::Info("self-update finished", {{"ok", result_.ok ? "true" : "false"}, {"outcome", result_.outcome}});
    return cli::kExitOk;
  }

  // A resumed updater: Podman's restart policy bumps the restart count; a start by the waiting
  // podcd (when Podman did not restart it) shows only in the run count.
  std::int64_t Restarts() {
    auto self = runtime_.Inspect(h_.updater);
    auto runs = reconcile::RecordUpdaterRun(state_dir_, deployment_);
    if (!runs) log::Warn("cannot record the updater's run", {{"error", runs.error().What()}});
    const std::int64_t restarts = std::max<std::int64_t>(self ? self->restart_count : 0, runs ? *runs : 0);
    if (restarts > 0) {
      Log("the updater was interrupted (crashed or killed) and started again (run " +
          std::to_string(restarts + 1) + "): putting the old podcd back");
    }
    return restarts;
  }

  // After an interruption: true when the old podcd still existed and was started again.
  bool PutOldPodcdBack() {
    if (auto old = runtime_.Inspect(h_.container); old) {
      // Still there, so the replacement had not finished: the old podcd is the one to run.
      StartOldPodcd(runtime_, h_.container, old->running, [this](const std::string& l) { Log(l); });
      result_.outcome = "rolled-back";
      result_.reason =
          "the updater was interrupted and restarted; the old podcd runs again, the update was not retried";
      Log(result_.reason);
      return true;
    }
    // The old container is gone: the replacement had finished. The plan below confirms the new
    // podcd (nothing to do) or creates it.
    Log("the old podcd container is gone: the replacement had finished; checking the new one");
    return false;
  }

  // Replaces the old podcd container like any service of its stack.
  void Replace(const reconcile::Snapshot& snap, std::int64_t restarts) {
    const core::StackPlan* plan = snap.plan.Find(h_.stack);
    const core::DesiredStack* desired = snap.desired.Find(h_.stack);
    if (plan == nullptr || desired == nullptr || !snap.desired.models.contains(h_.stack)) {
      result_.reason = "the stack " + h_.stack + " is not in the work tree";
      return;
    }
    auto job =
        reconcile::BuildStackJob(*plan, snap.desired.models.at(h_.stack), *desired, h_.commit, deployment_);
    if (!job) {
      result_.reason = job.error().What();
      return;
    }
    if (auto g = snap.desired.bind_guards.find(h_.stack); g != snap.desired.bind_guards.end())
      job->bind_guard = g->second;
    reconcile::ServiceJob* podcd = reconcile::ServiceOfContainer(*job, h_.container);
    if (podcd == nullptr && restarts > 0) {
      for (auto& s : job->services) {
        if (s.name == h_.service) podcd = &s;
      }
    }
    if (podcd == nullptr) {
      result_.reason =
          "the old podcd container " + h_.container.substr(0, 12) + " is not part of the stack any more";
      return;
    }
    reconcile::PrepareSelfServiceJob(*podcd);
    auto applied =
        reconcile::ApplyStack(*job, runtime_, reconcile::RealClock(), reconcile::GateFromConfig(*cfg_),
                              [this](const std::string& l) { Log(l); });
    result_.ok = applied.ok;
    result_.outcome = std::string(reconcile::ToString(applied.outcome));
    result_.reason = applied.reason;
    result_.duration_ms = applied.duration_ms;
  }

  const reconcile::HandOver& h_;
  std::string deployment_;
  std::filesystem::path state_dir_;
  std::shared_ptr<const config::Config> cfg_;
  reconcile::PodmanRuntime runtime_;
  reconcile::HandOverResult result_;
};

}  // namespace

int RunSelfUpdate(const cli::GlobalOptions& g, const cli::Args& args) {
  std::string deployment;
  if (args.size() == 2 && args[0] == "--deployment") deployment = args[1];
  if (deployment.empty()) {
    std::fprintf(stderr, "usage: podcd __self-update --deployment ID (run by podcd itself)\n");
    return cli::kExitUsage;
  }
  auto cfg = cli::LoadConfig(g);
  if (!cfg) return cli::kExitFailure;
  const std::filesystem::path state_dir = (*cfg)->state_dir;
  auto handover = reconcile::ReadHandOver(state_dir);
  if (!handover) {
    log::Error("cannot read the hand-over", {{"deployment", deployment}, {"error", handover.error().What()}});
    return cli::kExitFailure;
  }
  if (!*handover || (*handover)->deployment != deployment) {
    // Closed already (the podcd that started us gave up on us): nothing to do, nothing to retry.
    log::Warn("no hand-over for this deployment in the state directory; nothing to do",
              {{"deployment", deployment}});
    return cli::kExitOk;
  }
  return Updater(**handover, deployment, state_dir, *cfg).Run();
}

}  // namespace podcd::worker
