// Pieces of the daemon that join the engine to the HTTP server: the health probe, the
// stack catalog behind GET /stacks, and the Podman client options from the configuration.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "http/server.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/self_update.hpp"
#include "state/store.hpp"

namespace podcd::cli {

podman::ClientOptions PodmanOptions(const config::Config& cfg);

// /health: the Podman socket answers, the repository work tree exists, the state directory is
// writable. Cached for a second so a flood of /health requests does not flood Podman.
class DaemonHealth final : public http::HealthProbe {
 public:
  explicit DaemonHealth(std::shared_ptr<const config::Config> cfg);
  std::vector<std::string> Problems() override;

 private:
  std::shared_ptr<const config::Config> cfg_;
  std::mutex mutex_;
  std::unique_ptr<podman::Client> client_;
  std::chrono::steady_clock::time_point checked_{};
  std::vector<std::string> last_;
};

// GET /stacks from the work tree and the live containers; Exists() reads only the work tree,
// so trigger handlers never wait on Podman.
class EngineCatalog final : public http::StackCatalog {
 public:
  EngineCatalog(std::shared_ptr<const config::Config> cfg, reconcile::Engine& engine, state::Store& store);
  bool Exists(std::string_view name) override;
  std::vector<http::StackInfo> List() override;

 private:
  std::shared_ptr<const config::Config> cfg_;
  reconcile::Engine& engine_;
  state::Store& store_;
  std::mutex mutex_;  // one Observe at a time
};

// A self-update was pending when this podcd started (it is the new podcd, or the old one after
// a rollback): waits for the updater's result, closes the deployment record with it (never
// leaving it `running`), backs the self stack off if it failed, and removes the updater.
// Returns early, leaving everything for the next start, when `stopping` turns true.
void CloseHandOver(const reconcile::HandOver& handover, const config::Config& cfg, state::Store& store,
                   reconcile::Runtime& runtime, reconcile::Engine& engine, const std::atomic<bool>& stopping);

}  // namespace podcd::cli
