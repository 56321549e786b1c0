// Sync over the network transports: a real `git daemon` (git://) and a real sshd (ssh://)
// on loopback, with host keys checked against known_hosts files.
#include <catch2/catch.hpp>
#include <fstream>

#include "git/repo.hpp"
#include "git_fixture.hpp"
#include "servers.hpp"

using namespace podcd::test;
namespace fs = std::filesystem;
using podcd::ErrorCode;
using podcd::git::SyncRepo;

TEST_CASE("git daemon: clone, no-change, new commit, force-push, ignored secrets survive") {
  GitRemote remote;
  GitDaemon daemon(remote.dir.path());
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), daemon.Url("remote.git"));
  cfg.allow_insecure = true;  // git:// is refused without it (the test below)
  auto state = (work / "state").string();

  auto first = SyncRepo(cfg, state);
  REQUIRE(first);
  CHECK(first->commit == remote.Head());
  CHECK(first->fetched);
  fs::create_directories(repo / "secrets");
  std::ofstream(repo / "secrets/x.env") << "S=1\n";
  std::ofstream(repo / "untracked.txt") << "x\n";

  auto same = SyncRepo(cfg, state);
  REQUIRE(same);
  CHECK_FALSE(same->fetched);
  CHECK(Slurp(repo / "untracked.txt") == "x\n");  // a sync never removes untracked files

  auto head = remote.Commit({{"services/web/compose.yml", "services: {w: {image: a}}\n"}}, "update");
  auto next = SyncRepo(cfg, state);
  REQUIRE(next);
  CHECK(next->commit == head);
  CHECK(next->fetched);

  Git(remote.dev, "reset -q --hard HEAD~1");
  auto forced_head = remote.Commit({{"other.txt", "forced\n"}}, "forced");
  auto forced = SyncRepo(cfg, state);
  REQUIRE(forced);
  CHECK(forced->commit == forced_head);
  CHECK(Slurp(repo / "services/web/compose.yml") == "services: {}\n");
  CHECK(Slurp(repo / "secrets/x.env") == "S=1\n");
}

TEST_CASE("git daemon: a repository the daemon does not serve is a clear error") {
  GitRemote remote;
  GitDaemon daemon(remote.dir.path());
  TempDir work;
  auto cfg = RepoConfig((work / "repo").string(), daemon.Url("nope.git"));
  cfg.allow_insecure = true;
  auto r = SyncRepo(cfg, (work / "state").string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("git:// and http:// remotes are refused without repo.allow_insecure, whatever set the URL") {
  GitRemote remote;
  GitDaemon daemon(remote.dir.path());
  HttpGitServer http(remote.dir.path(), "ghp_test_token_0123456789");
  TempDir work;
  auto state = (work / "state").string();
  std::string url;
  SECTION("git:// in repo.url") { url = daemon.Url("remote.git"); }
  SECTION("http:// with userinfo in repo.url") {
    url = http.Url("remote.git");
    url.insert(std::string("http://").size(), "podcd:ghp_in_url_0123456789@");
  }
  SECTION("git:// as the origin of an existing clone, repo.url unset") {
    Sh("git clone -q " + Quote(remote.bare.string()) + " " + Quote((work / "repo").string()));
    Git(work / "repo", "remote set-url origin " + Quote(daemon.Url("remote.git")));
  }
  auto cfg = RepoConfig((work / "repo").string(), url);
  auto r = SyncRepo(cfg, state);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermissionDenied);
  CHECK_THAT(r.error().message, Catch::Contains("repo.allow_insecure"));
  CHECK_THAT(r.error().message, Catch::Contains("://"));
  CHECK(r.error().What().find("ghp_in_url") == std::string::npos);
  if (!url.empty()) CHECK_FALSE(fs::exists(work / "repo/services"));  // nothing fetched or checked out

  cfg.allow_insecure = true;
  auto ok = SyncRepo(cfg, state);
  if (url.starts_with("http://")) {
    // Reached the server this time: it refuses the credentials in the URL, not the scheme.
    REQUIRE_FALSE(ok);
    CHECK(ok.error().code != ErrorCode::kPermissionDenied);
  } else {
    INFO((ok ? "" : ok.error().What()));
    REQUIRE(ok);
    CHECK(ok->commit == remote.Head());
  }
}

TEST_CASE("sshd: ed25519 and ECDSA keys, host key checked against known_hosts") {
  GitRemote remote;
  TempDir work;
  SshServer sshd(work / "sshd");
  auto known_hosts = work.Write("known_hosts", "# test\n" + sshd.known_hosts_line());
  auto cfg = RepoConfig((work / "repo").string(), sshd.Url(remote.bare));
  cfg.known_hosts_file = known_hosts.string();
  auto state = (work / "state").string();

  SECTION("ed25519 key, plain known_hosts entry; updates and force-push followed") {
    cfg.ssh_key_file = sshd.ed25519_key().string();
    auto r = SyncRepo(cfg, state);
    INFO((r ? "" : r.error().What()));
    REQUIRE(r);
    CHECK(r->commit == remote.Head());
    auto again = SyncRepo(cfg, state);
    REQUIRE(again);
    CHECK_FALSE(again->fetched);
    Git(remote.dev, "reset -q --hard HEAD");
    auto head = remote.Commit({{"services/web/compose.yml", "services: {s: {image: b}}\n"}}, "over ssh");
    auto next = SyncRepo(cfg, state);
    REQUIRE(next);
    CHECK(next->commit == head);
    CHECK(next->fetched);
  }
  SECTION("ECDSA key, hashed known_hosts entry (ssh-keygen -H)") {
    cfg.ssh_key_file = sshd.ecdsa_key().string();
    Sh("ssh-keygen -q -H -f " + Quote(known_hosts.string()) + " 2>&1");
    REQUIRE(Slurp(known_hosts).find("|1|") != std::string::npos);
    auto r = SyncRepo(cfg, state);
    INFO((r ? "" : r.error().What()));
    REQUIRE(r);
    CHECK(r->commit == remote.Head());
  }
  SECTION("a wrong host key is refused") {
    cfg.ssh_key_file = sshd.ed25519_key().string();
    std::string other = Slurp(sshd.stranger_key().string() + ".pub");
    other = other.substr(0, other.find(' ', other.find(' ') + 1));
    work.Write("known_hosts", "[127.0.0.1]:" + std::to_string(sshd.port()) + " " + other + "\n");
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermissionDenied);
    CHECK_THAT(r.error().message, Catch::Contains("does not match"));
    CHECK_FALSE(fs::exists(work / "repo/services"));
  }
  SECTION("an unknown host is refused") {
    cfg.ssh_key_file = sshd.ed25519_key().string();
    work.Write("known_hosts",
               sshd.known_hosts_line().substr(sshd.known_hosts_line().find(' ')).insert(0, "elsewhere"));
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermissionDenied);
    CHECK_THAT(r.error().message, Catch::Contains("is not in"));
  }
  SECTION("no known_hosts file configured is refused") {
    cfg.ssh_key_file = sshd.ed25519_key().string();
    cfg.known_hosts_file.clear();
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermissionDenied);
    CHECK_THAT(r.error().message, Catch::Contains("repo.known_hosts_file"));
  }
  SECTION("a key the server does not authorize fails without looping") {
    cfg.ssh_key_file = sshd.stranger_key().string();
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
    CHECK_THAT(r.error().message, Catch::Contains("authentication failed"));
  }
  SECTION("no key configured fails cleanly") {
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
    CHECK_THAT(r.error().message, Catch::Contains("repo.ssh_key_file"));
  }
}

TEST_CASE("smart HTTP with a token: accepted, wrong token and missing token refused") {
  GitRemote remote;
  const std::string token = "ghp_test_token_0123456789";
  HttpGitServer http(remote.dir.path(), token);
  TempDir work;
  auto cfg = RepoConfig((work / "repo").string(), http.Url("remote.git"));
  cfg.allow_insecure = true;  // the test server speaks plain http://
  auto state = (work / "state").string();

  SECTION("the right token") {
    cfg.token = token;
    auto r = SyncRepo(cfg, state);
    INFO((r ? "" : r.error().What()));
    REQUIRE(r);
    CHECK(r->commit == remote.Head());
    auto head = remote.Commit({{"services/web/.env", "H=1\n"}}, "over http");
    auto next = SyncRepo(cfg, state);
    REQUIRE(next);
    CHECK(next->commit == head);
    CHECK(next->fetched);
  }
  SECTION("a wrong token fails without looping and is not echoed") {
    cfg.token = "wrong-token-abcdefghijkl";
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
    CHECK(r.error().What().find("wrong-token") == std::string::npos);
  }
  SECTION("no token") {
    auto r = SyncRepo(cfg, state);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
    CHECK_THAT(r.error().message, Catch::Contains("repo.token"));
  }
}
