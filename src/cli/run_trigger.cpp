#include "cli/run_trigger.hpp"

#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>

#include "cli/api_client.hpp"
#include "cli/common.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/file_lock.hpp"
#include "util/json.hpp"

namespace podcd::cli {
namespace {

int ViaDaemon(const char* command, const config::Config& cfg, const DaemonRequest& daemon) {
  const std::string server =
      daemon.server.empty() ? "http://127.0.0.1:" + std::to_string(cfg.listen.port) : daemon.server;
  auto token = ResolveApiToken(daemon.token_file, cfg.api.token);
  if (!token) {
    std::fprintf(stderr, "podcd %s: %s\n", command, token.error().What().c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "podcd %s: a daemon holds the state directory; asking it at %s\n", command,
               server.c_str());
  auto r = ApiCall("POST", server + daemon.path + (daemon.wait ? "?wait=3600" : ""), *token, daemon.body,
                   std::chrono::seconds(daemon.wait ? 3700 : 30));
  if (!r) {
    std::fprintf(stderr, "podcd %s: %s\n", command, r.error().What().c_str());
    return kExitFailure;
  }
  if (!daemon.wait && r->status == 202) {
    rapidjson::Document doc;
    doc.Parse(r->body.c_str());
    const std::string id = doc.IsObject() ? json::GetStr(doc, "deployment") : "";
    if (!id.empty()) {
      std::printf("deployment %s queued (podcd status %s shows it)\n", id.c_str(), id.c_str());
      return kExitOk;
    }
  }
  auto record = state::FromJson(r->body);
  if (!record) {
    std::fprintf(stderr, "podcd %s: the daemon answered %ld: %s\n", command, r->status, r->body.c_str());
    return kExitFailure;
  }
  return PrintOutcome(*record);
}

}  // namespace

int PrintOutcome(const state::Deployment& d) {
  std::printf("deployment %s %s (commit %s)\n", d.id.c_str(), std::string(state::ToString(d.state)).c_str(),
              d.commit.empty() ? "-" : d.commit.substr(0, 12).c_str());
  for (const auto& s : d.stacks) {
    std::printf("  %-24s %-12s %6lld ms  %s\n", s.name.c_str(), s.outcome.c_str(),
                static_cast<long long>(s.duration_ms), s.reason.c_str());
  }
  if (!d.reason.empty()) std::printf("reason: %s\n", d.reason.c_str());
  return d.state == state::DeploymentState::kSucceeded ? kExitOk : kExitFailure;
}

int RunTrigger(const char* command, const GlobalOptions& g, state::Trigger t, const DaemonRequest& daemon) {
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  std::error_code ec;
  std::filesystem::create_directories((*cfg)->state_dir, ec);
  auto lock = FileLock::TryAcquire((std::filesystem::path((*cfg)->state_dir) / "podcd.lock").string());
  if (!lock) {
    if (lock.error().code == ErrorCode::kAlreadyExists) return ViaDaemon(command, **cfg, daemon);
    std::fprintf(stderr, "podcd %s: %s\n", command, lock.error().What().c_str());
    return kExitFailure;
  }
  auto store = state::Store::Open((*cfg)->state_dir);
  if (!store) {
    std::fprintf(stderr, "podcd %s: %s\n", command, store.error().What().c_str());
    return kExitFailure;
  }
  t.actor = "cli";
  reconcile::PodmanRuntime runtime(podman::OptionsFromConfig(**cfg));
  reconcile::Engine engine(*cfg, reconcile::ChildProcessSync(), runtime, reconcile::RealClock());
  reconcile::WorkQueue queue(**store, engine, 1);
  queue.Start();
  auto queued = queue.Enqueue(std::move(t));
  if (!queued) {
    std::fprintf(stderr, "podcd %s: %s\n", command, queued.error().What().c_str());
    return kExitFailure;
  }
  auto done = queue.Wait(queued->id, std::chrono::hours(24));
  queue.Stop();
  if (!done) {
    std::fprintf(stderr, "podcd %s: deployment %s did not finish\n", command, queued->id.c_str());
    return kExitFailure;
  }
  for (const auto& line : done->log) std::fprintf(stderr, "%s\n", line.c_str());
  return PrintOutcome(*done);
}

}  // namespace podcd::cli
