// `podcd __self-update --deployment ID` (internal): the one-shot updater container the daemon
// starts from its new image when its own stack changed (reconcile/self_update.hpp). Replaces
// the old podcd container like any service, then writes the outcome for the next podcd.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/daemon_parts.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/self_update.hpp"
#include "state/deployment.hpp"
#include "util/log.hpp"

namespace podcd::cli {

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
  if (!handover || !*handover || (*handover)->deployment != deployment) {
    log::Error("no hand-over for this deployment in the state directory",
               {{"deployment", deployment},
                {"error", handover ? std::string("none or another deployment") : handover.error().What()}});
    return kExitFailure;
  }
  const reconcile::HandOver& h = **handover;
  reconcile::HandOverResult result;
  result.deployment = deployment;
  result.outcome = "failed";
  auto log_line = [&](const std::string& line) {
    log::Info(line, {{"stack", h.stack}});
    result.log.push_back(line);
  };
  auto finish = [&](int code) {
    if (auto r = reconcile::WriteHandOverResult(state_dir, result); !r) {
      log::Error("cannot write the hand-over result", {{"error", r.error().What()}});
      return kExitFailure;
    }
    log::Info("self-update finished", {{"ok", result.ok ? "true" : "false"}, {"outcome", result.outcome}});
    return code;
  };
  log_line("updater for deployment " + deployment + ": replacing podcd container " +
           h.container.substr(0, 12) + " with the stack " + h.stack + " at " + h.commit.substr(0, 12));

  reconcile::PodmanRuntime runtime(PodmanOptions(**cfg));
  // The old podcd synced the work tree for this very deployment; nothing syncs it meanwhile.
  reconcile::Engine engine(
      *cfg,
      [](const config::Config&) {
        return Expected<std::string>(Fail(ErrorCode::kInternal, "the updater never syncs"));
      },
      runtime, reconcile::RealClock());
  auto snap = engine.Observe(false, false);
  if (!snap) {
    result.reason = snap.error().What();
    return finish(kExitFailure);
  }
  const core::StackPlan* plan = snap->plan.Find(h.stack);
  const core::DesiredStack* desired = snap->desired.Find(h.stack);
  if (plan == nullptr || desired == nullptr || !snap->desired.models.contains(h.stack)) {
    result.reason = "the stack " + h.stack + " is not in the work tree";
    return finish(kExitFailure);
  }
  result.stack_key = reconcile::StackKey(*desired);
  auto job =
      reconcile::BuildStackJob(*plan, snap->desired.models.at(h.stack), *desired, h.commit, deployment);
  if (!job) {
    result.reason = job.error().What();
    return finish(kExitFailure);
  }
  reconcile::ServiceJob* podcd = reconcile::ServiceOfContainer(*job, h.container);
  if (podcd == nullptr) {
    result.reason =
        "the old podcd container " + h.container.substr(0, 12) + " is not part of the stack any more";
    return finish(kExitFailure);
  }
  reconcile::PrepareSelfServiceJob(*podcd);
  auto applied = reconcile::ApplyStack(*job, runtime, reconcile::RealClock(),
                                       reconcile::GateFromConfig(**cfg), log_line);
  result.ok = applied.ok;
  result.outcome = applied.outcome;
  result.reason = applied.reason;
  result.duration_ms = applied.duration_ms;
  return finish(applied.ok ? kExitOk : kExitFailure);
}

}  // namespace podcd::cli
