// The repository sync as a child process (`podcd __sync`), both messages and the parent's side:
// libgit2 1.5.1 leaks on every fetch, and a hung remote must not hang the caller, so each sync
// runs in a short-lived child with a hard timeout.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace podcd::worker {

// podcd's own executable, for spawning internal subcommands.
inline constexpr const char* kSelfExe = "/proc/self/exe";

// The child's answer (git::SyncResult on the wire).
struct SyncResult {
  std::string commit;    // the work tree's commit after the sync (40 hex digits)
  bool fetched = false;  // false when the remote head already equalled ours (fetch skipped)
  bool changed = false;  // the commit differs from the one checked out before
};

// The request on the child's stdin: the repository section and the state directory of the
// caller's configuration, the token included (the pipe is the only way a secret reaches the
// child: never its environment or command line), and the log level.
struct SyncRequest {
  config::Config::Repo repo;
  std::string state_dir;
  log::Level log_level = log::Level::kInfo;
};
SyncRequest SyncRequestOf(const config::Config& config);
std::string EncodeSyncRequest(const SyncRequest& request);
Expected<SyncRequest> DecodeSyncRequest(std::string_view json);

// Spawns `<podcd_binary> __sync` with SyncRequestOf(config) on its stdin and none of the
// configuration variables in its environment, kills it after repo.sync_timeout, and parses
// its one JSON line. Errors keep their code (kUnauthenticated, kPermissionDenied, ...); a
// child killed at the timeout gives kTimeout.
Expected<SyncResult> SyncInChild(const config::Config& config, const std::string& podcd_binary = kSelfExe);

// The child's answer, one line: {"ok":true,"commit":"...","fetched":b,"changed":b} or
// {"ok":false,"error":"...","code":"..."}. Shared by __sync (writer) and SyncInChild (reader).
std::string FormatSyncLine(const Expected<SyncResult>& result);
Expected<SyncResult> ParseSyncLine(std::string_view line);

}  // namespace podcd::worker
