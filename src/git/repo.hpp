// The environment repository: open or clone, compare with the remote, fetch, check out.
// libgit2 stays behind this header; nothing above it sees a git_* type or error code.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "util/error.hpp"

struct git_repository;

namespace podcd::git {

struct RepoDeleter {
  void operator()(git_repository* r) const noexcept;
};
using RepoPtr = std::unique_ptr<git_repository, RepoDeleter>;

struct SyncResult {
  std::string commit;    // the work tree's commit after the sync (40 hex digits)
  bool fetched = false;  // false when the remote head already equalled ours (fetch skipped)
  bool changed = false;  // the commit differs from the one checked out before
};

// Sets libgit2 up once per process (owner validation off: the repository is often mounted
// from another user into podcd's container).
void InitLibgit2();

class EnvRepo {
 public:
  // Opens the repository at repo.path. When there is none and repo.url is set, creates it
  // (init + fetch + checkout, so a non-empty directory holding e.g. secrets/ works too). When
  // it cannot be opened (corrupt) and repo.url is set, moves its .git aside and starts over.
  static Expected<EnvRepo> Open(const config::Config::Repo& repo);

  // The commit the configured branch points to on the remote (one ls-remote round trip).
  [[nodiscard]] Expected<std::string> RemoteHead();
  // Fetches the branch into refs/remotes/origin/<branch> (forced, so force-pushes follow).
  [[nodiscard]] Expected<void> Fetch();
  // Checks refs/remotes/origin/<branch> out over the tracked files (untracked and ignored
  // files are never removed or overwritten: checkout.hpp), then points the branch, HEAD and
  // the index at it. Returns the commit.
  [[nodiscard]] Expected<std::string> ResetToRemote();
  // The commit HEAD points to; empty string when there is none yet.
  [[nodiscard]] Expected<std::string> HeadCommit();
  // The commit refs/remotes/origin/<branch> points to; empty when absent.
  [[nodiscard]] Expected<std::string> TrackingCommit();

  // RemoteHead; Fetch unless the remote head equals the tracking ref; ResetToRemote.
  [[nodiscard]] Expected<SyncResult> Sync();

  const std::string& path() const { return cfg_.path; }

 private:
  EnvRepo(config::Config::Repo cfg, RepoPtr repo) : cfg_(std::move(cfg)), repo_(std::move(repo)) {}

  config::Config::Repo cfg_;
  RepoPtr repo_;
};

// The whole sync as `podcd __sync` runs it: takes the state lock (<state_dir>/repo-sync.flock),
// removes stale lock files and half-written packs left by an interrupted fetch, opens or
// clones, syncs; when the local repository turns out corrupt and repo.url is known, moves
// .git aside and clones again (ignored files such as secrets/ stay in place).
Expected<SyncResult> SyncRepo(const config::Config::Repo& repo, const std::string& state_dir);

// Removes *.lock files under <work tree>/.git and temporary pack files. Returns how many.
int RemoveStaleLocks(const std::string& work_tree);

}  // namespace podcd::git
