// `podcd serve`: the daemon. Webhook server + work queue; SIGTERM/SIGINT stop it gracefully.
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "http/server.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

// Stands in for the reconcile engine until it exists: it records honestly that nothing was
// reconciled and succeeds, so the trigger path, queue and API can be used end to end.
// PODCD_TEST_PLACEHOLDER_DELAY_MS makes it take that long (tests of shutdown during a run).
class PlaceholderExecutor final : public reconcile::Executor {
 public:
  PlaceholderExecutor() {
    if (const char* v = std::getenv("PODCD_TEST_PLACEHOLDER_DELAY_MS")) {
      if (auto n = ParseInt(v); n && *n > 0) delay_ = std::chrono::milliseconds(*n);
    }
  }
  Expected<void> Run(const state::Trigger& trigger, reconcile::RunContext& ctx) override {
    ctx.Log("no reconcile engine yet: podcd " + trigger.kind +
            " was accepted and recorded, but nothing was synced, pulled or deployed");
    auto end = std::chrono::steady_clock::now() + delay_;
    while (std::chrono::steady_clock::now() < end) {
      if (ctx.StopRequested()) return Fail(ErrorCode::kUnavailable, "interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
  }

 private:
  std::chrono::milliseconds delay_{0};
};

class StateDirProbe final : public http::HealthProbe {
 public:
  explicit StateDirProbe(std::string dir) : dir_(std::move(dir)) {}
  std::vector<std::string> Problems() override {
    if (::access(dir_.c_str(), W_OK) != 0) return {"state directory " + dir_ + " is not writable"};
    return {};
  }

 private:
  std::string dir_;
};

}  // namespace

int Serve(const GlobalOptions& g, const Args& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "podcd serve: takes no arguments, got \"%s\"\n", args.front().c_str());
    return kExitUsage;
  }
  // Before any thread exists, so every thread inherits the mask and sigwait() below is the
  // only place these signals are delivered.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto cfg_opt = LoadConfig(g);
  if (!cfg_opt) return kExitFailure;
  const config::Config& cfg = **cfg_opt;
  log::Info(config::Summary(cfg));

  state::StoreOptions so;
  so.max_delivery_ids = static_cast<std::size_t>(cfg.webhook.delivery_ids);
  auto store = state::Store::Open(cfg.state_dir, so);
  if (!store) {
    log::Error("cannot open the state directory", {{"error", store.error().What()}});
    return kExitFailure;
  }
  if ((*store)->InterruptedOnOpen() > 0) {
    log::Warn("deployments interrupted by the last stop were marked failed",
              {{"count", (*store)->InterruptedOnOpen()}});
  }
  PlaceholderExecutor executor;
  log::Warn("no reconcile engine yet: triggers are queued and recorded, nothing is deployed");
  reconcile::WorkQueue queue(**store, executor, static_cast<std::size_t>(cfg.queue_limit));
  http::DirectoryCatalog catalog((std::filesystem::path(cfg.repo.path) / cfg.repo.services_dir).string());
  StateDirProbe health(cfg.state_dir);
  http::Server server(http::OptionsFromConfig(cfg), **store, queue, catalog, &health);
  queue.Start();
  if (auto r = server.Start(); !r) {
    log::Error("cannot start the HTTP server", {{"error", r.error().What()}});
    queue.Stop();
    return kExitFailure;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.Shutdown(cfg.webhook.request_timeout);
  log::Info("stopped");
  return kExitOk;
}

}  // namespace podcd::cli
