// The daemon's pieces that reach Podman or the repository: through a raw socket (/health) or
// through worker processes (deployments, GET /stacks, a pending self-update), never by linking
// libcurl or libgit2.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "http/server.hpp"
#include "http/upload.hpp"
#include "reconcile/handover.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/guarded.hpp"
#include "worker/launcher.hpp"

namespace podcd::daemon {

// GET /libpod/_ping on the Podman socket: success when it answers 200 within `timeout`.
Expected<void> PingPodman(const std::string& socket_path, std::chrono::milliseconds timeout);

// A RunContext for a worker whose events are not a deployment's: its log lines go to the log.
class LogOnlyContext final : public reconcile::RunContext {
 public:
  explicit LogOnlyContext(std::function<bool()> stop = {}) : stop_(std::move(stop)) {}
  std::string Id() const override { return ""; }
  void Log(std::string line) override;
  void SetCommit(std::string /*commit*/) override {}
  void SetStackOutcome(state::StackOutcome /*outcome*/) override {}
  bool StopRequested() const override { return stop_ && stop_(); }
  void HandOver() override {}

 private:
  std::function<bool()> stop_;
};

// The configuration the daemon started with and the one it runs now (SIGHUP), as workers get it.
class ConfigHolder {
 public:
  explicit ConfigHolder(std::shared_ptr<const config::Config> boot);
  void Set(std::shared_ptr<const config::Config> current);
  std::shared_ptr<const config::Config> Current() const;
  worker::ConfigSnapshot Snapshot() const;
  // The current worker.* limits.
  worker::Limits Limits() const;

 private:
  std::shared_ptr<const config::Config> boot_;
  mutable Guarded<std::shared_ptr<const config::Config>> current_;
};

// A /health problem when the state directory is not writable.
std::optional<std::string> StateDirProblem(const std::string& dir);

// /health: the Podman socket answers, the repository work tree exists, the state directory is
// writable. Cached for a second so a flood of /health requests does not flood Podman.
class DaemonHealth final : public http::HealthProbe {
 public:
  explicit DaemonHealth(std::shared_ptr<const config::Config> cfg);
  std::vector<std::string> Problems() override;

 private:
  struct Last {
    std::chrono::steady_clock::time_point checked{};
    std::vector<std::string> problems;
  };
  std::shared_ptr<const config::Config> cfg_;
  Guarded<Last> last_;
};

// POST /upload's archives checked and loaded in a `podcd __load-image` worker.
class WorkerImageLoader final : public http::ImageLoader {
 public:
  WorkerImageLoader(const worker::Launcher& launcher, const ConfigHolder& config)
      : launcher_(launcher), config_(config) {}
  Expected<http::LoadResult> Load(const std::string& stack, const std::string& archive) override;

 private:
  const worker::Launcher& launcher_;
  const ConfigHolder& config_;
};

// Each deployment in a `podcd __run` worker.
class WorkerExecutor final : public reconcile::Executor {
 public:
  WorkerExecutor(const worker::Launcher& launcher, const ConfigHolder& config);
  Expected<void> Run(const state::Trigger& trigger, reconcile::RunContext& ctx) override;

 private:
  const worker::Launcher& launcher_;
  const ConfigHolder& config_;
};

// GET /stacks from a `podcd __stacks` worker (the work tree and the live containers) and the
// history; Exists() asks `directory` (the work tree's services directory), so trigger
// handlers never wait on Podman.
//
// One worker runs at a time, and requests share it: a List() answered by an observation that
// began after the request came in is as fresh as a worker of its own, so requests that wait
// while a worker runs all get the next one's answer (N concurrent requests start at most two
// workers).
class WorkerCatalog final : public http::StackCatalog {
 public:
  WorkerCatalog(const worker::Launcher& launcher, const ConfigHolder& config, state::Store& store,
                http::DirectoryCatalog& directory);
  bool Exists(std::string_view name) override;
  Expected<std::vector<http::StackInfo>> List() override;
  // The last answer when it began less than `max_age` ago, else a fresh one: for the
  // `podcd_stacks` gauge, so that each scrape does not start a worker.
  Expected<std::vector<http::StackInfo>> Recent(std::chrono::milliseconds max_age);

 private:
  // The newest answer if it began at or after `since`, else a new worker's (under the lock,
  // so one worker at a time).
  Expected<std::vector<http::StackInfo>> ObserveSince(std::chrono::steady_clock::time_point since);
  // Marks suspended and pinned stacks (state/controls.hpp).
  Expected<std::vector<http::StackInfo>> WithControls(Expected<std::vector<http::StackInfo>> stacks);

  const worker::Launcher& launcher_;
  const ConfigHolder& config_;
  state::Store& store_;
  http::DirectoryCatalog& directory_;
  struct Observed {
    std::optional<Expected<std::vector<http::StackInfo>>> answer;
    std::chrono::steady_clock::time_point began{};
  };
  Guarded<Observed> observed_;
};

// GET /stacks' state of one stack: from what the worker saw and the outcome of the newest
// deployment that touched it ("" when none did).
std::string StackState(const worker::StackObservation& stack, const std::string& last_outcome);

// A self-update was pending when this podcd started: a `podcd __close-handover` worker waits
// for the updater's result and reports it; its record (kept `running` until now) is closed
// with it. Returns early, leaving everything for the next start, when `stopping` turns true.
void CloseHandOver(const reconcile::HandOver& handover, const worker::Launcher& launcher,
                   const ConfigHolder& config, state::Store& store, const std::atomic<bool>& stopping);

}  // namespace podcd::daemon
