// `podcd __sync`: the repository sync as a child process (worker/sync.hpp). Reads its request
// on stdin; prints exactly one JSON line on stdout; logs go to stderr.
#include <pthread.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "git/repo.hpp"
#include "process/spawn.hpp"
#include "util/log.hpp"
#include "worker/jobs.hpp"
#include "worker/sync.hpp"

namespace podcd::worker {
namespace {

int Answer(const Expected<SyncResult>& result, int code) {
  std::printf("%s\n", FormatSyncLine(result).c_str());
  std::fflush(stdout);
  return code;
}

}  // namespace

int RunSync(const cli::GlobalOptions& g, const cli::Args& args) {
  // Started with the stop signals blocked, like every podcd child: a stop ends a sync at once.
  const sigset_t stops = process::StopSignals();
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);
  process::ExitOnAllocationFailure();  // under its worker's memory limit (SyncInChild says so)
  if (!args.empty())
    return Answer(Fail(ErrorCode::kInvalidArgument, "__sync takes no arguments"), cli::kExitUsage);
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto request = DecodeSyncRequest(text);
  if (!request) return Answer(std::unexpected(request.error()), cli::kExitFailure);
  auto format = log::Format::kJson;  // the parent passes the lines on (SyncInChild)
  auto level = request->log_level;
  if (!g.log_format.empty()) log::ParseFormat(g.log_format, format);
  if (!g.log_level.empty()) log::ParseLevel(g.log_level, level);
  log::Configure(format, level);
  log::AddSecret(request->repo.token);
  for (auto& s : log::UrlSecrets(request->repo.url)) log::AddSecret(std::move(s));
  auto synced = git::SyncRepo(request->repo, request->state_dir);
  if (!synced) return Answer(std::unexpected(synced.error()), cli::kExitFailure);
  return Answer(SyncResult{synced->commit, synced->fetched, synced->changed}, cli::kExitOk);
}

}  // namespace podcd::worker
