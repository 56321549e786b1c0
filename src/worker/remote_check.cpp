#include "worker/remote_check.hpp"

#include <filesystem>

#include "git/repo.hpp"
#include "state/deployment.hpp"
#include "util/metrics.hpp"

namespace podcd::worker {

Expected<RemoteState> CheckRemote(const config::Config::Repo& repo) {
  if (repo.url.empty())
    return Fail(ErrorCode::kInvalidArgument, "repo.url is not set: there is no remote to ask");
  std::error_code ec;
  // EnvRepo::Open would clone: the first sync does that, with its lock and its clean-ups.
  if (!std::filesystem::exists(std::filesystem::path(repo.path) / ".git", ec))
    return Fail(ErrorCode::kNotFound, "no repository yet (the first sync clones it)", repo.path);
  auto env = git::EnvRepo::Open(repo);
  if (!env) return std::unexpected(env.error());
  RemoteState state;
  auto local = env->HeadCommit();
  if (!local) return std::unexpected(local.error());
  state.local = *local;
  auto remote = env->RemoteHead();
  if (!remote) return std::unexpected(remote.error());
  state.remote = *remote;
  return state;
}

void RecordRemoteState(const RemoteState& state) {
  metrics::Set("podcd_repo_remote_ahead", {}, state.Ahead() ? 1 : 0);
  metrics::Set("podcd_repo_remote_check_timestamp_seconds", {}, static_cast<double>(state::NowMs()) / 1000.0);
}

}  // namespace podcd::worker
