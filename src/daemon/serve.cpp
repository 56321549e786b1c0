// podcd-serve (`podcd serve`): the daemon. Webhook server + work queue, each deployment in a
// `podcd __run` worker; SIGTERM/SIGINT stop it gracefully, SIGHUP reloads the configuration.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <random>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "daemon/daemon_parts.hpp"
#include "daemon/remote_watch.hpp"
#include "daemon/serve.hpp"
#include "events/bus.hpp"
#include "http/deferred_answers.hpp"
#include "http/server.hpp"
#include "notify/notifier.hpp"
#include "reconcile/handover.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/file_lock.hpp"
#include "util/guarded.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"

namespace podcd::daemon {
namespace {

using cli::Args;
using cli::GlobalOptions;
using cli::kExitFailure;
using cli::kExitOk;
using cli::kExitUsage;

class StateDirProbe final : public http::HealthProbe {
 public:
  explicit StateDirProbe(std::string dir) : dir_(std::move(dir)) {}
  std::vector<std::string> Problems() override {
    if (auto problem = StateDirProblem(dir_)) return {*problem};
    return {};
  }

 private:
  std::string dir_;
};

// Enqueues a poll trigger every interval, give or take a random jitter, until stopped.
class Poller {
 public:
  Poller(reconcile::WorkQueue& queue, std::chrono::milliseconds interval, std::chrono::milliseconds jitter)
      : queue_(queue), interval_(interval), jitter_(jitter) {
    if (interval_.count() > 0) thread_ = std::thread([this] { Loop(); });
  }
  ~Poller() { Stop(); }
  void Stop() {
    *stop_.Lock() = true;
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::mt19937_64 rng(std::random_device{}());
    // Spread around the interval, so hosts started together do not poll their remote together.
    const std::int64_t spread = std::min(jitter_, interval_ / 2).count();
    auto stop = stop_.Lock();
    for (;;) {
      auto extra = spread > 0 ? std::uniform_int_distribution<std::int64_t>(-spread, spread)(rng) : 0;
      if (stop.WaitFor(cv_, interval_ + std::chrono::milliseconds(extra), [](bool s) { return s; })) return;
      state::Trigger t;
      t.kind = state::TriggerKind::kPoll;
      t.actor = "poll";
      t.all_changed = true;
      if (auto r = queue_.Enqueue(std::move(t)); !r)
        log::Warn("poll not queued", {{"error", r.error().What()}});
    }
  }
  reconcile::WorkQueue& queue_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds jitter_;
  Guarded<bool> stop_{false};
  std::condition_variable cv_;
  std::thread thread_;
};

// GET /metrics: what the process counts as it goes, plus gauges read at each scrape.
// `stacks`: GET /stacks' answer, at most a little old.
void RegisterMetrics(reconcile::WorkQueue& queue,
                     std::function<Expected<std::vector<http::StackInfo>>()> stacks) {
  using metrics::Describe;
  Describe("podcd_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
  Describe("podcd_http_event_streams_dropped_total", "counter", "GET /events clients dropped as too slow.");
  Describe("podcd_deployments_total", "counter", "Finished deployments by final state.");
  Describe("podcd_deployment_duration_seconds", "summary", "Duration of finished deployments.");
  Describe("podcd_stack_duration_seconds", "summary", "Duration of each stack's apply, by outcome.");
  Describe("podcd_images_removed_total", "counter",
           "Old images podcd brought and removed after a stack's successful deployment, by stack.");
  Describe("podcd_git_sync_seconds", "summary", "Repository syncs (podcd __sync child), by success.");
  Describe("podcd_last_successful_sync_timestamp_seconds", "gauge", "Unix time of the last successful sync.");
  Describe("podcd_podman_call_seconds", "summary", "Podman API calls by kind.");
  Describe("podcd_repo_remote_ahead", "gauge",
           "Whether the remote's branch named another commit than the work tree at the last check (1 or 0).");
  Describe("podcd_repo_remote_check_timestamp_seconds", "gauge",
           "Unix time of the last answered remote check.");
  Describe("podcd_repo_remote_check_failures_total", "counter", "Remote checks that got no answer.");
  Describe("podcd_queue_depth", "gauge", "Deployments queued and not yet running.");
  metrics::SetCollector("podcd_queue_depth", [&queue] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, static_cast<double>(queue.QueuedCount())}};
  });
  Describe("podcd_stacks", "gauge",
           "Stacks by state (in-sync, changed, drifted, failed, invalid, refused, removed).");
  metrics::SetCollector("podcd_stacks", [stacks = std::move(stacks)] {
    std::map<std::string, double> by_state;
    auto listed = stacks();  // none when the stacks cannot be observed (GET /stacks says why)
    if (listed)
      for (const auto& s : *listed) by_state[s.state] += 1;
    std::vector<std::pair<metrics::Labels, double>> out;
    out.reserve(by_state.size());
    for (const auto& [st, n] : by_state) out.push_back({{{"state", st}}, n});
    return out;
  });
  Describe("podcd_process_resident_memory_bytes", "gauge", "Resident set size of the podcd process.");
  metrics::SetCollector("podcd_process_resident_memory_bytes", [] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, metrics::ProcessRssBytes()}};
  });
}

// SIGHUP: the new configuration, validated, with the settings that only a restart changes
// kept as they are (and named in a warning); nullptr when the new configuration is invalid.
std::shared_ptr<const config::Config> ReloadConfig(const GlobalOptions& g, const config::Config& old) {
  config::LoadOptions opts;
  opts.file = g.config_file;
  auto fresh = config::Load(opts);
  if (!fresh) {
    std::vector<std::string> errors;
    for (const auto& e : fresh.error()) errors.push_back(e.What());
    log::Error("SIGHUP: the new configuration is invalid; the running one stays",
               {{"errors", std::to_string(errors.size())}, {"first", errors.empty() ? "" : errors.front()}});
    for (const auto& e : errors) log::Error("SIGHUP: " + e);
    return nullptr;
  }
  config::Config c = std::move(*fresh);
  cli::ApplyLogOptions(g, c);
  std::vector<std::string> kept = config::KeepRestartOnly(c, old);
  if (!kept.empty()) {
    log::Warn("SIGHUP: these settings change only on a restart; the running values stay",
              {{"settings", Join(kept, ", ")}});
  }
  log::Configure(c.log.format, c.log.level);
  return std::make_shared<const config::Config>(std::move(c));
}

// podcd, installed beside this executable.
std::string WorkerBinary() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("podcd") : (self.parent_path() / "podcd").string();
}

// Before any thread exists, so every thread inherits the mask and sigwait() in WaitForStop is
// the only place these signals are delivered.
sigset_t BlockSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

// One podcd per state directory: `podcd deploy` sees the lock and asks this daemon instead.
Expected<FileLock> LockStateDir(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto lock = FileLock::TryAcquire((std::filesystem::path(state_dir) / "podcd.lock").string());
  if (!lock) log::Error("another podcd uses this state directory", {{"error", lock.error().What()}});
  return lock;
}

// A self-update in flight when this podcd started: its record stays `running` until the
// updater's result closes it (CloseHandOver), before the first reconcile.
std::optional<reconcile::HandOver> PendingHandOver(const std::string& state_dir) {
  auto h = reconcile::ReadHandOver(state_dir);
  if (h) return *h;
  log::Warn("ignoring an unreadable self-update hand-over", {{"error", h.error().What()}});
  reconcile::ClearHandOver(state_dir);
  return std::nullopt;
}

Expected<std::unique_ptr<state::Store>> OpenStore(const config::Config& cfg,
                                                  const std::optional<reconcile::HandOver>& pending) {
  state::StoreOptions so;
  so.max_delivery_ids = static_cast<std::size_t>(cfg.webhook.delivery_ids);
  if (pending) so.keep_running = pending->deployment;
  auto store = state::Store::Open(cfg.state_dir, so);
  if (!store) {
    log::Error("cannot open the state directory", {{"error", store.error().What()}});
    return store;
  }
  if ((*store)->InterruptedOnOpen() > 0) {
    log::Warn("deployments interrupted by the last stop were marked failed",
              {{"count", (*store)->InterruptedOnOpen()}});
  }
  return store;
}

// A worker gets the configuration in its request, so only the logging options go on its
// command line.
std::vector<std::string> WorkerGlobalArgs(const GlobalOptions& g) {
  GlobalOptions log_options = g;
  log_options.config_file.clear();
  return cli::GlobalArgs(log_options);
}

// The daemon's parts, wired together; the members are declared in the order they must be
// built (and so are destroyed in the reverse order: the server before what it uses).
class Daemon {
 public:
  Daemon(const GlobalOptions& g, const std::string& worker, const std::shared_ptr<const config::Config>& cfg,
         state::Store& store, std::optional<reconcile::HandOver> pending,
         std::unique_ptr<reconcile::Executor> test_executor)
      : g_(g),
        cfg_(*cfg),
        store_(store),
        pending_(std::move(pending)),
        // Everything that needs Podman or git runs in a worker process: the podcd beside this one.
        launcher_(worker, WorkerGlobalArgs(g)),
        config_holder_(cfg),
        worker_executor_(launcher_, config_holder_),
        placeholder_(test_executor != nullptr),
        test_executor_(std::move(test_executor)),
        queue_(store_, SelectExecutor(), static_cast<std::size_t>(cfg_.queue_limit), &bus_),
        notifier_(bus_, store_, NotifierOptions(g, worker)),
        dir_catalog_((std::filesystem::path(cfg_.repo.path) / cfg_.repo.services_dir).string()),
        worker_catalog_(launcher_, config_holder_, store_, dir_catalog_),
        daemon_health_(cfg),
        state_health_(cfg_.state_dir),
        catalog_(placeholder_ ? static_cast<http::StackCatalog&>(dir_catalog_) : worker_catalog_),
        health_(placeholder_ ? static_cast<http::HealthProbe&>(state_health_) : daemon_health_),
        answers_(store_, catalog_, &health_, PODCD_VERSION),
        image_loader_(launcher_, config_holder_),
        server_(http::OptionsFromConfig(cfg_), store_, queue_, catalog_, answers_, &bus_) {
    if (!placeholder_) server_.SetImageLoader(&image_loader_);
  }

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  int Run(const sigset_t& stop_signals) {
    StartWork();
    if (auto r = server_.Start(); !r) {
      log::Error("cannot start the HTTP server", {{"error", r.error().What()}});
      stopping_ = true;
      if (closer_.joinable()) closer_.join();
      queue_.Stop();
      return kExitFailure;
    }
    const int sig = WaitForStop(stop_signals);
    Stop(sig);
    return kExitOk;
  }

 private:
  notify::NotifierOptions NotifierOptions(const GlobalOptions& g, const std::string& worker) {
    notify::NotifierOptions o;
    o.binary = worker;
    o.global_args = WorkerGlobalArgs(g);
    o.state_dir = cfg_.state_dir;
    o.config = [this] { return config_holder_.Current(); };
    return o;
  }

  reconcile::Executor& SelectExecutor() {
    if (placeholder_) log::Warn("TEST MODE (podcd-serve-test): nothing is deployed");
    return placeholder_ ? *test_executor_ : static_cast<reconcile::Executor&>(worker_executor_);
  }

  void Begin() {
    queue_.Start();
    if (placeholder_) return;
    // Level-triggered: whatever happened while podcd was down, bring the host to the repo.
    state::Trigger startup;
    startup.kind = state::TriggerKind::kDeployAllChanged;
    startup.event = "startup";
    startup.all_changed = true;
    if (auto r = queue_.Enqueue(std::move(startup)); r)
      log::Info("startup reconcile queued", {{"deployment", r->id}});
  }

  // The queue (after a pending self-update's result, if any), the poller and the gauges.
  void StartWork() {
    // With a self-update pending, /health must answer (the updater gates on it) while the
    // result is awaited; triggers wait in the queue meanwhile.
    if (pending_ && !placeholder_) {
      closer_ = std::thread([this] {
        CloseHandOver(*pending_, launcher_, config_holder_, store_, stopping_);
        if (!stopping_) Begin();
      });
    } else {
      Begin();
    }
    poller_ = std::make_unique<Poller>(queue_, cfg_.poll.interval, cfg_.poll.jitter);
    if (!placeholder_)
      remote_watch_ =
          std::make_unique<RemoteWatch>(launcher_, config_holder_, cfg_.repo.remote_check_interval);
    RegisterMetrics(queue_, [this] {
      return placeholder_ ? dir_catalog_.List() : worker_catalog_.Recent(std::chrono::seconds(30));
    });
  }

  // Until SIGTERM or SIGINT (returned); each SIGHUP reloads the configuration.
  int WaitForStop(const sigset_t& stop_signals) {
    int sig = 0;
    for (;;) {
      sigwait(&stop_signals, &sig);
      if (sig != SIGHUP) return sig;
      const auto previous = config_holder_.Current();
      auto current = ReloadConfig(g_, *previous);
      if (!current) continue;
      config_holder_.Set(current);
      // The users file is read again even when the configuration's text did not change.
      if (auto r = server_.UpdateCredentials(current->webhook.secret, current->api.token,
                                             current->auth.users_file);
          !r) {
        log::Error("SIGHUP: the users file was not reloaded; the previous users stay",
                   {{"error", r.error().What()}});
      }
      poller_ = std::make_unique<Poller>(queue_, current->poll.interval, current->poll.jitter);
      if (!placeholder_) {
        remote_watch_.reset();  // its check in progress ends first
        remote_watch_ =
            std::make_unique<RemoteWatch>(launcher_, config_holder_, current->repo.remote_check_interval);
      }
      log::Info("SIGHUP: configuration reloaded; " + config::Summary(*current));
      if (current->file_text != previous->file_text) QueueReconcile("sighup");
    }
  }

  // A changed configuration (another branch, prune, policy) may change what the host should
  // run: bring it there now rather than at the next push or poll.
  void QueueReconcile(const char* event) {
    state::Trigger t;
    t.kind = state::TriggerKind::kDeployAllChanged;
    t.event = event;
    t.all_changed = true;
    if (auto r = queue_.Enqueue(std::move(t)); r)
      log::Info("SIGHUP: the configuration changed; reconcile queued", {{"deployment", r->id}});
    else
      log::Warn("SIGHUP: reconcile not queued", {{"error", r.error().What()}});
  }

  void Stop(int sig) {
    log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stopping_ = true;
    poller_->Stop();
    remote_watch_.reset();
    // The gauges read members of this object: none may be read after it is destroyed.
    for (auto name : {"podcd_queue_depth", "podcd_stacks", "podcd_process_resident_memory_bytes"}) {
      metrics::SetCollector(name, nullptr);
    }
    server_.Shutdown(cfg_.webhook.request_timeout);
    if (closer_.joinable()) closer_.join();
    log::Info("stopped");
  }

  const GlobalOptions& g_;
  const config::Config& cfg_;  // the configuration at start; Serve keeps it alive
  state::Store& store_;
  const std::optional<reconcile::HandOver> pending_;
  podcd::worker::Launcher launcher_;
  ConfigHolder config_holder_;
  WorkerExecutor worker_executor_;
  const bool placeholder_;  // a test binary's executor replaces the workers
  std::unique_ptr<reconcile::Executor> test_executor_;
  // What happens to deployments: the queue publishes, GET /events and the notifier listen.
  events::Bus bus_;
  reconcile::WorkQueue queue_;
  // Tells the `notify:` targets and the forge (src/notify/); hears the queue through bus_.
  notify::Notifier notifier_;
  http::DirectoryCatalog dir_catalog_;
  WorkerCatalog worker_catalog_;
  DaemonHealth daemon_health_;
  StateDirProbe state_health_;
  http::StackCatalog& catalog_;
  http::HealthProbe& health_;
  // GET /health, /metrics and /stacks wait on Podman: answered off the server's reactor threads.
  http::DeferredAnswers answers_;
  WorkerImageLoader image_loader_;  // POST /upload's loads (outlives the server)
  http::Server server_;
  std::atomic<bool> stopping_{false};
  std::thread closer_;
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<RemoteWatch> remote_watch_;
};

}  // namespace

int Serve(const GlobalOptions& g, const Args& args) { return ServeWithTestExecutor(g, args, nullptr); }

int ServeWithTestExecutor(const GlobalOptions& g, const Args& args,
                          std::unique_ptr<reconcile::Executor> test_executor) {
  // Blocks of 1 MiB and more always come from mmap and go back to the kernel when freed: a
  // login's Argon2id takes 19 MiB for 50 ms, which glibc's adaptive threshold would otherwise keep
  // in the heap for good after the first one.
  ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
  const std::string worker = WorkerBinary();
  if (::access(worker.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "podcd serve: the worker %s is not executable: %s\n", worker.c_str(),
                 std::strerror(errno));
    return kExitFailure;
  }
  if (!args.empty()) {
    std::fprintf(stderr, "podcd serve: takes no arguments, got \"%s\"\n", args.front().c_str());
    return kExitUsage;
  }
  const sigset_t stop_signals = BlockSignals();
  auto cfg_opt = cli::LoadConfig(g);
  if (!cfg_opt) return kExitFailure;
  log::Info(config::Summary(**cfg_opt));
  auto lock = LockStateDir((*cfg_opt)->state_dir);
  if (!lock) return kExitFailure;
  std::optional<reconcile::HandOver> pending = PendingHandOver((*cfg_opt)->state_dir);
  auto store = OpenStore(**cfg_opt, pending);
  if (!store) return kExitFailure;
  Daemon daemon(g, worker, *cfg_opt, **store, std::move(pending), std::move(test_executor));
  return daemon.Run(stop_signals);
}

}  // namespace podcd::daemon
