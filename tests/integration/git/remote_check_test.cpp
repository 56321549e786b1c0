// worker/remote_check.hpp against a real file:// remote: whether the remote is ahead, asked
// with one ls-remote, never fetching or cloning.
#include "worker/remote_check.hpp"

#include <catch2/catch.hpp>

#include "git/repo.hpp"
#include "git_fixture.hpp"
#include "util/metrics.hpp"

using namespace podcd;
using namespace podcd::test;
namespace fs = std::filesystem;

namespace {
git::SyncResult MustSync(const config::Config::Repo& cfg, const fs::path& state) {
  auto r = git::SyncRepo(cfg, state.string());
  REQUIRE(r);
  return *r;
}
}  // namespace

TEST_CASE("the remote check says ahead after a push, without fetching; a sync ends it") {
  GitRemote remote;
  TempDir work;
  auto cfg = RepoConfig((work / "repo").string(), "file://" + remote.bare.string());

  // Before the first sync: no repository, and the check does not make one.
  auto none = worker::CheckRemote(cfg);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kNotFound);
  CHECK_FALSE(fs::exists(work / "repo/.git"));

  auto first = MustSync(cfg, work / "state");
  auto same = worker::CheckRemote(cfg);
  REQUIRE(same);
  CHECK(same->local == first.commit);
  CHECK(same->remote == first.commit);
  CHECK_FALSE(same->Ahead());

  const std::string pushed =
      remote.Commit({{"services/web/compose.yml", "services: {a: {image: x}}\n"}}, "second");
  auto ahead = worker::CheckRemote(cfg);
  REQUIRE(ahead);
  CHECK(ahead->Ahead());
  CHECK(ahead->remote == pushed);
  CHECK(ahead->local == first.commit);
  // Nothing was fetched: the tracking ref and the work tree are where the sync left them.
  CHECK(Trim(Git(work / "repo", "rev-parse refs/remotes/origin/main")) == first.commit);
  CHECK(Slurp(work / "repo/services/web/compose.yml") == "services: {}\n");

  metrics::ResetForTest();
  worker::RecordRemoteState(*ahead);
  CHECK(metrics::Value("podcd_repo_remote_ahead") == 1.0);
  CHECK(metrics::Value("podcd_repo_remote_check_timestamp_seconds").value_or(0) > 1.7e9);

  MustSync(cfg, work / "state");
  auto caught_up = worker::CheckRemote(cfg);
  REQUIRE(caught_up);
  CHECK_FALSE(caught_up->Ahead());
  worker::RecordRemoteState(*caught_up);
  CHECK(metrics::Value("podcd_repo_remote_ahead") == 0.0);
}

TEST_CASE("the remote check names an unreachable remote, and needs a url") {
  GitRemote remote;
  TempDir work;
  auto cfg = RepoConfig((work / "repo").string(), "file://" + remote.bare.string());
  MustSync(cfg, work / "state");
  auto gone = cfg;
  fs::rename(remote.bare, remote.dir / "moved.git");
  auto r = worker::CheckRemote(gone);
  REQUIRE_FALSE(r);
  CHECK_FALSE(r.error().What().empty());
  auto no_url = cfg;
  no_url.url.clear();
  auto n = worker::CheckRemote(no_url);
  REQUIRE_FALSE(n);
  CHECK(n.error().What().find("repo.url") != std::string::npos);
}
