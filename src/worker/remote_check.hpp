// Whether the remote's branch is ahead of the work tree, asked without fetching anything:
// one ls-remote round trip (`podcd __remote-head`, which the daemon runs on a timer). The
// dashboard's front page and the podcd_repo_remote_ahead gauge show the answer.
#pragma once

#include <string>

#include "config/config.hpp"
#include "util/error.hpp"

namespace podcd::worker {

struct RemoteState {
  std::string remote;  // the branch's head on the remote (40 hex digits)
  std::string local;   // the work tree's HEAD; "" before the first sync
  // The remote names another commit than the work tree has (after a first sync only).
  [[nodiscard]] bool Ahead() const { return !local.empty() && !remote.empty() && remote != local; }
};

// Reads HEAD and asks the remote; never clones, fetches or writes. kNotFound when there is no
// repository at repo.path yet (the first sync makes it).
Expected<RemoteState> CheckRemote(const config::Config::Repo& repo);

// Records the answer as gauges: podcd_repo_remote_ahead (1 or 0) and
// podcd_repo_remote_check_timestamp_seconds (now); in a worker, both reach the daemon.
void RecordRemoteState(const RemoteState& state);

}  // namespace podcd::worker
