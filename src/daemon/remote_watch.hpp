// Asks the remote, on a timer, whether its branch is ahead of the work tree: a `podcd
// __remote-head` worker (one ls-remote round trip, no fetch) whose answer becomes the
// podcd_repo_remote_ahead gauge, which the dashboard's front page shows. A push whose webhook
// never arrived is visible within one interval, without waiting for a poll to deploy it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <string>
#include <thread>

#include "daemon/daemon_parts.hpp"
#include "util/guarded.hpp"
#include "worker/launcher.hpp"

namespace podcd::daemon {

class RemoteWatch {
 public:
  // Checks `first` after it starts, then every `interval`; does nothing for an interval of 0.
  RemoteWatch(const worker::Launcher& launcher, const ConfigHolder& config,
              std::chrono::milliseconds interval, std::chrono::milliseconds first = std::chrono::seconds(15));
  ~RemoteWatch() { Stop(); }
  RemoteWatch(const RemoteWatch&) = delete;
  RemoteWatch& operator=(const RemoteWatch&) = delete;
  // Ends a check in progress (its worker gets SIGTERM) and the timer. Idempotent.
  void Stop();

 private:
  void Loop(std::chrono::milliseconds first);
  void CheckOnce();

  const worker::Launcher& launcher_;
  const ConfigHolder& config_;
  const std::chrono::milliseconds interval_;
  Guarded<bool> stop_{false};
  std::condition_variable cv_;
  std::string last_error_;  // logged once until it changes (only the loop's thread touches it)
  std::thread thread_;
};

}  // namespace podcd::daemon
