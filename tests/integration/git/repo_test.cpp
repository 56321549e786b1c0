// EnvRepo against real repositories on the local file system (file:// URLs and plain paths).
#include "git/repo.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "git_fixture.hpp"
#include "support/skip.hpp"

using namespace podcd::test;
namespace fs = std::filesystem;
using podcd::Trim;
using podcd::git::SyncRepo;

namespace {

podcd::git::SyncResult MustSync(const podcd::config::Config::Repo& cfg, const fs::path& state) {
  auto r = SyncRepo(cfg, state.string());
  INFO((r ? std::string("ok") : r.error().What()));
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("first clone, no-change sync, new commit, force-push (file://)") {
  GitRemote remote;
  TempDir work;
  auto cfg = RepoConfig((work / "repo").string(), "file://" + remote.bare.string());
  auto state = work / "state";

  auto first = MustSync(cfg, state);
  CHECK(first.commit == remote.Head());
  CHECK(first.fetched);
  CHECK(first.changed);
  CHECK(Slurp(work / "repo/services/web/compose.yml") == "services: {}\n");
  // The result is a normal repository that the git CLI agrees with.
  CHECK(Trim(Git(work / "repo", "rev-parse HEAD")) == first.commit);
  CHECK(Trim(Git(work / "repo", "symbolic-ref HEAD")) == "refs/heads/main");
  CHECK(Git(work / "repo", "status --porcelain").empty());

  auto again = MustSync(cfg, state);
  CHECK(again.commit == first.commit);
  CHECK_FALSE(again.fetched);
  CHECK_FALSE(again.changed);

  auto second = remote.Commit({{"services/web/compose.yml", "services: {a: {image: x}}\n"}}, "second");
  auto synced = MustSync(cfg, state);
  CHECK(synced.commit == second);
  CHECK(synced.fetched);
  CHECK(synced.changed);
  CHECK(Slurp(work / "repo/services/web/compose.yml") == "services: {a: {image: x}}\n");

  // Force-push: rewrite history back to the first commit plus a different change.
  Git(remote.dev, "reset -q --hard " + first.commit);
  auto rewritten = remote.Commit({{"services/api/compose.yml", "services: {}\n"}}, "rewritten");
  auto forced = MustSync(cfg, state);
  CHECK(forced.commit == rewritten);
  CHECK(fs::exists(work / "repo/services/api/compose.yml"));
  CHECK(Slurp(work / "repo/services/web/compose.yml") == "services: {}\n");
}

TEST_CASE("sync from a plain local path; tracked edits reverted, untracked and ignored kept") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), remote.bare.string());
  auto state = work / "state";
  MustSync(cfg, state);

  std::ofstream(repo / "services/web/compose.yml") << "edited locally\n";
  std::ofstream(repo / "stray.txt") << "untracked\n";
  fs::create_directories(repo / "services/ghost");
  std::ofstream(repo / "services/ghost/compose.yml") << "services: {}\n";
  fs::create_directories(repo / "secrets");
  std::ofstream(repo / "secrets/x.env") << "PASSWORD=hunter2\n";

  auto r = MustSync(cfg, state);
  CHECK_FALSE(r.fetched);
  CHECK(Slurp(repo / "services/web/compose.yml") == "services: {}\n");
  // A sync never removes untracked files (keep_untracked_test.cpp has the rest of that rule).
  CHECK(Slurp(repo / "stray.txt") == "untracked\n");
  CHECK(Slurp(repo / "services/ghost/compose.yml") == "services: {}\n");
  CHECK(Slurp(repo / "secrets/x.env") == "PASSWORD=hunter2\n");

  // And across a real update too.
  remote.Commit({{"services/web/.env", "A=1\n"}}, "env");
  auto r2 = MustSync(cfg, state);
  CHECK(r2.fetched);
  CHECK(Slurp(repo / "secrets/x.env") == "PASSWORD=hunter2\n");
  CHECK(Slurp(repo / "services/web/.env") == "A=1\n");
}

TEST_CASE("an existing non-empty directory holding secrets/ is cloned into") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  fs::create_directories(repo / "secrets");
  std::ofstream(repo / "secrets/web.env") << "TOKEN=abc\n";
  auto r = MustSync(RepoConfig(repo.string(), "file://" + remote.bare.string()), work / "state");
  CHECK(r.commit == remote.Head());
  CHECK(Slurp(repo / "secrets/web.env") == "TOKEN=abc\n");
  CHECK(fs::exists(repo / "services/web/compose.yml"));
}

TEST_CASE("an existing repository at repo.path without repo.url syncs from its origin") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  Sh("git clone -q " + Quote(remote.bare.string()) + " " + Quote(repo.string()));
  // Someone left it on a local branch with a local commit: the configured branch wins.
  Git(repo, "checkout -q -b local-work");
  std::ofstream(repo / "local.txt") << "mine\n";
  Git(repo, "add -A");
  Git(repo, "commit -q -m local");
  auto head = remote.Commit({{"new.txt", "1\n"}}, "new");
  auto r = MustSync(RepoConfig(repo.string(), ""), work / "state");
  CHECK(r.commit == head);
  CHECK(r.fetched);
  CHECK(Trim(Git(repo, "symbolic-ref HEAD")) == "refs/heads/main");
  CHECK_FALSE(fs::exists(repo / "local.txt"));
  CHECK(Git(repo, "status --porcelain").empty());
}

TEST_CASE("missing repository without a url, and a missing branch, are clear errors") {
  GitRemote remote;
  TempDir work;
  auto r = SyncRepo(RepoConfig((work / "none").string(), ""), (work / "state").string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kNotFound);
  CHECK_THAT(r.error().What(), Catch::Contains("repo.url"));

  auto cfg = RepoConfig((work / "repo").string(), "file://" + remote.bare.string());
  cfg.branch = "production";
  auto r2 = SyncRepo(cfg, (work / "state").string());
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == podcd::ErrorCode::kNotFound);
  CHECK_THAT(r2.error().message, Catch::Contains("production"));

  auto cfg3 = RepoConfig((work / "repo3").string(), "file://" + (work / "no-such-remote.git").string());
  auto r3 = SyncRepo(cfg3, (work / "state").string());
  REQUIRE_FALSE(r3);
  CHECK(r3.error().code == podcd::ErrorCode::kUnavailable);
}

TEST_CASE("stale lock files and half-written packs from an interrupted fetch are recovered") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  MustSync(cfg, work / "state");
  auto git = repo / ".git";
  std::ofstream(git / "index.lock") << "";
  std::ofstream(git / "HEAD.lock") << "";
  std::ofstream(git / "shallow.lock") << "";
  fs::create_directories(git / "refs/remotes/origin");
  std::ofstream(git / "refs/remotes/origin/main.lock") << "";
  std::ofstream(git / "objects/pack/pack_git2_0123456789abcdef") << "PACK partial";
  std::ofstream(git / "objects/pack/pack-0000000000000000000000000000000000000000.pack")
      << "PACK\0\0\0\2 truncated";

  auto head = remote.Commit({{"services/web/compose.yml", "services: {b: {image: y}}\n"}}, "after crash");
  auto r = MustSync(cfg, work / "state");
  CHECK(r.commit == head);
  CHECK_FALSE(fs::exists(git / "index.lock"));
  CHECK_FALSE(fs::exists(git / "refs/remotes/origin/main.lock"));
  CHECK_FALSE(fs::exists(git / "objects/pack/pack_git2_0123456789abcdef"));
  CHECK_FALSE(fs::exists(git / "objects/pack/pack-0000000000000000000000000000000000000000.pack"));
  CHECK(Git(repo, "status --porcelain").empty());
  Git(repo, "fsck --no-progress");
}

TEST_CASE("a fetch killed at arbitrary points is recovered by the next sync") {
  GitRemote remote;
  // A remote large enough that fetching it takes a moment: 8 MiB of incompressible blobs.
  Sh("head -c 8388608 /dev/urandom > " + Quote((remote.dev / "big.bin").string()));
  Git(remote.dev, "add -A");
  Git(remote.dev, "commit -q -m big");
  Git(remote.dev, "push -q origin main");
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  auto run_child = [&](std::chrono::microseconds kill_after) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto r = SyncRepo(cfg, (work / "state").string());
      _exit(r ? 0 : 1);
    }
    if (kill_after.count() > 0) {
      usleep(static_cast<useconds_t>(kill_after.count()));
      kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  };
  // How long one full clone takes here; the kills are spread over that span.
  auto full = run_child(std::chrono::microseconds(0));
  fs::remove_all(repo);
  for (int k = 1; k <= 6; ++k) {
    remote.Commit(
        {{"round.txt", std::to_string(k)}, {"blob" + std::to_string(k), std::string(1 << 20, char('a' + k))}},
        "round");
    run_child(full * k / 7);
    auto r = MustSync(cfg, work / "state");
    CHECK(r.commit == remote.Head());
    CHECK(fs::file_size(repo / "big.bin") == 8388608);
    Git(repo, "fsck --no-progress --no-reflogs");
    if (k % 2 == 0) fs::remove_all(repo);  // alternate between killed clones and killed fetches
  }
}

TEST_CASE("a corrupt .git is moved aside and cloned again; ignored files survive") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  MustSync(cfg, work / "state");
  fs::create_directories(repo / "secrets");
  std::ofstream(repo / "secrets/x.env") << "KEEP=1\n";

  SECTION("HEAD garbage") { std::ofstream(repo / ".git/HEAD") << "garbage\n"; }
  SECTION("objects deleted") {
    fs::remove_all(repo / ".git/objects");
    fs::create_directories(repo / ".git/objects");
  }
  SECTION("tracking ref points to a missing object") {
    std::ofstream(repo / ".git/refs/remotes/origin/main") << "1111111111111111111111111111111111111111\n";
    fs::remove(repo / ".git/packed-refs");
  }
  auto r = MustSync(cfg, work / "state");
  CHECK(r.commit == remote.Head());
  CHECK(Slurp(repo / "secrets/x.env") == "KEEP=1\n");
  CHECK(Git(repo, "status --porcelain").empty());
  Git(repo, "fsck --no-progress --no-reflogs");
}

TEST_CASE("a corrupt .git without repo.url is reported, not deleted") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  Sh("git clone -q " + Quote(remote.bare.string()) + " " + Quote(repo.string()));
  std::ofstream(repo / ".git/HEAD") << "garbage\n";
  auto r = SyncRepo(RepoConfig(repo.string(), ""), (work / "state").string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kIo);
  CHECK(fs::exists(repo / ".git/config"));
}

TEST_CASE("a repository owned by another user is synced (owner validation is off)") {
  if (geteuid() != 0) PODCD_SKIP("needs root to chown the repository");
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  MustSync(cfg, work / "state");
  // As a host directory mounted into podcd's container looks: someone else's files.
  Sh("chown -R 65534:65534 " + Quote(repo.string()));
  // The git CLI refuses it ("dubious ownership"), which shows the test is meaningful.
  CHECK(RunCommand("git -C " + Quote(repo.string()) + " status").exit_code != 0);
  auto head = remote.Commit({{"owned.txt", "x\n"}}, "owned elsewhere");
  auto r = MustSync(cfg, work / "state");
  CHECK(r.commit == head);
  CHECK(r.fetched);
}
