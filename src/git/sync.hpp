// Runs the repository sync in a short-lived child (`podcd __sync`): libgit2 1.5.1 leaks on
// every fetch, and a hung remote must not hang the daemon. The child gets a hard timeout.
#pragma once

#include <string>

#include "config/config.hpp"
#include "git/repo.hpp"
#include "util/error.hpp"

namespace podcd::git {

// podcd's own executable, for spawning internal subcommands.
inline constexpr const char* kSelfExe = "/proc/self/exe";

// Spawns `<podcd_binary> __sync` with the repository settings of `config` in its environment
// (never on its command line: ps shows that), kills it after repo.sync_timeout, and parses
// its one JSON line. Errors keep their code (kUnauthenticated, kPermissionDenied, ...);
// a child killed at the timeout gives kTimeout.
Expected<SyncResult> SyncInChild(const config::Config& config, const std::string& podcd_binary = kSelfExe);

// The child's answer, one line: {"ok":true,"commit":"...","fetched":b,"changed":b} or
// {"ok":false,"error":"...","code":"..."}. Shared by __sync (writer) and SyncInChild (reader).
std::string FormatSyncLine(const Expected<SyncResult>& result);
Expected<SyncResult> ParseSyncLine(std::string_view line);

}  // namespace podcd::git
