// `podcd deploy [--all-changed | STACK...] [--pull]`: reconcile now. In-process when no daemon
// holds the state directory; otherwise through the daemon's admin API (POST /deploy?wait=).
#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/file_lock.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd deploy [--all-changed | STACK...] [--pull] [--server URL] [--token-file F]\n"
    "  --all-changed   every stack whose fingerprint changed (the default without STACK)\n"
    "  --pull          pull the newest images and recreate services whose image changed\n"
    "  --server URL    the daemon to ask when one holds the state directory\n"
    "                  (default http://127.0.0.1:<listen port>)\n";

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

std::string RequestJson(const state::Trigger& t) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("stacks");
  w.StartArray();
  for (const auto& stack : t.stacks) json::Text(w, stack);
  w.EndArray();
  w.Key("all_changed");
  w.Bool(t.all_changed);
  w.Key("pull");
  w.Bool(t.pull);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

int ViaDaemon(const config::Config& cfg, const state::Trigger& t, std::string server,
              const std::string& token_file) {
  if (server.empty()) server = "http://127.0.0.1:" + std::to_string(cfg.listen.port);
  std::string token = cfg.api.token;
  if (!token_file.empty()) {
    auto text = ReadFile(token_file, 64 << 10);
    if (!text) {
      std::fprintf(stderr, "podcd deploy: %s\n", text.error().What().c_str());
      return kExitFailure;
    }
    token = std::string(Trim(*text));
  }
  std::fprintf(stderr, "podcd deploy: a daemon holds the state directory; asking it at %s\n", server.c_str());
  auto r = ApiCall("POST", server + "/deploy?wait=3600", token, RequestJson(t), std::chrono::seconds(3700));
  if (!r) {
    std::fprintf(stderr, "podcd deploy: %s\n", r.error().What().c_str());
    return kExitFailure;
  }
  auto record = state::FromJson(r->body);
  if (!record) {
    std::fprintf(stderr, "podcd deploy: the daemon answered %ld: %s\n", r->status, r->body.c_str());
    return kExitFailure;
  }
  return PrintOutcome(*record);
}

}  // namespace

int Deploy(const GlobalOptions& g, const Args& args) {
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  std::string server;
  std::string token_file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--all-changed")
      t.all_changed = true;
    else if (a == "--pull")
      t.pull = true;
    else if ((a == "--server" || a == "--token-file") && i + 1 < args.size())
      (a == "--server" ? server : token_file) = args[++i];
    else if (a.starts_with("-")) {
      std::fprintf(stderr, "podcd deploy: unknown option \"%s\"\n%s", a.c_str(), kUsage);
      return kExitUsage;
    } else if (!IsValidStackName(a)) {
      std::fprintf(stderr, "podcd deploy: \"%s\" is not a valid stack name\n", a.c_str());
      return kExitUsage;
    } else {
      t.stacks.push_back(a);
    }
  }
  if (t.all_changed && !t.stacks.empty()) {
    std::fprintf(stderr, "podcd deploy: give --all-changed or stack names, not both\n%s", kUsage);
    return kExitUsage;
  }
  if (t.stacks.empty()) t.all_changed = true;

  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  std::error_code ec;
  std::filesystem::create_directories((*cfg)->state_dir, ec);
  auto lock = FileLock::TryAcquire((std::filesystem::path((*cfg)->state_dir) / "podcd.lock").string());
  if (!lock) {
    if (lock.error().code == ErrorCode::kAlreadyExists) return ViaDaemon(**cfg, t, server, token_file);
    std::fprintf(stderr, "podcd deploy: %s\n", lock.error().What().c_str());
    return kExitFailure;
  }
  auto store = state::Store::Open((*cfg)->state_dir);
  if (!store) {
    std::fprintf(stderr, "podcd deploy: %s\n", store.error().What().c_str());
    return kExitFailure;
  }
  reconcile::PodmanRuntime runtime(podman::OptionsFromConfig(**cfg));
  reconcile::Engine engine(*cfg, reconcile::ChildProcessSync(), runtime, reconcile::RealClock());
  reconcile::WorkQueue queue(**store, engine, 1);
  queue.Start();
  auto queued = queue.Enqueue(t);
  if (!queued) {
    std::fprintf(stderr, "podcd deploy: %s\n", queued.error().What().c_str());
    return kExitFailure;
  }
  auto done = queue.Wait(queued->id, std::chrono::hours(24));
  queue.Stop();
  if (!done) {
    std::fprintf(stderr, "podcd deploy: deployment %s did not finish\n", queued->id.c_str());
    return kExitFailure;
  }
  for (const auto& line : done->log) std::fprintf(stderr, "%s\n", line.c_str());
  return PrintOutcome(*done);
}

}  // namespace podcd::cli
