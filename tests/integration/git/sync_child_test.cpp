// SyncInChild: the sync through `podcd __sync` in a child process with a hard timeout.
#include "worker/sync.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "git_fixture.hpp"
#include "servers.hpp"

using namespace podcd::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using podcd::ErrorCode;
using podcd::worker::SyncInChild;

namespace {

podcd::config::Config ChildConfig(const fs::path& work, const std::string& url) {
  podcd::config::Config c;
  c.repo = RepoConfig((work / "repo").string(), url);
  c.state_dir = (work / "state").string();
  c.webhook.secret = "a-real-webhook-secret-the-child-must-not-see";
  c.log.level = podcd::log::Level::kInfo;
  return c;
}

}  // namespace

TEST_CASE("sync in a child: clone, no change, change") {
  GitRemote remote;
  TempDir work;
  auto cfg = ChildConfig(work.path(), "file://" + remote.bare.string());
  auto first = SyncInChild(cfg, PODCD_BINARY);
  INFO((first ? "" : first.error().What()));
  REQUIRE(first);
  CHECK(first->commit == remote.Head());
  CHECK(first->fetched);
  CHECK(first->changed);
  auto same = SyncInChild(cfg, PODCD_BINARY);
  REQUIRE(same);
  CHECK_FALSE(same->fetched);
  CHECK_FALSE(same->changed);
  auto head = remote.Commit({{"services/web/.env", "X=2\n"}}, "change");
  auto next = SyncInChild(cfg, PODCD_BINARY);
  REQUIRE(next);
  CHECK(next->commit == head);
  CHECK(next->fetched);
  CHECK(next->changed);
  CHECK(Slurp(work / "repo/services/web/.env") == "X=2\n");
}

TEST_CASE("sync in a child ignores the parent's configuration variables") {
  GitRemote remote;
  TempDir work;
  auto cfg = ChildConfig(work.path(), "file://" + remote.bare.string());
  // These would break the child's configuration (both forms of a secret; a bogus file) if
  // they leaked through.
  setenv("PODCD_REPO_TOKEN_FILE", "/nonexistent/token", 1);
  setenv("PODCD_CONFIG", "/nonexistent/podcd.yml", 1);
  setenv("PODCD_REPO_BRANCH", "nope", 1);
  auto r = SyncInChild(cfg, PODCD_BINARY);
  unsetenv("PODCD_REPO_TOKEN_FILE");
  unsetenv("PODCD_CONFIG");
  unsetenv("PODCD_REPO_BRANCH");
  INFO((r ? "" : r.error().What()));
  REQUIRE(r);
  CHECK(r->commit == remote.Head());
}

TEST_CASE("secrets reach the child through its stdin, never its command line") {
  TempDir work;
  // A stand-in for podcd that records what it was given and answers like __sync.
  auto fake = work.Write("fake-podcd",
                         "#!/bin/sh\n"
                         "d=\"$(dirname \"$0\")\"\n"
                         "printf '%s\\n' \"$0\" \"$@\" > \"$d/args\"\n"
                         "env > \"$d/env\"\n"
                         "cat > \"$d/stdin\"\n"
                         "echo '{\"ok\":true,\"commit\":\"abc\",\"fetched\":false,\"changed\":false}'\n");
  fs::permissions(fake, fs::perms::owner_all);
  auto cfg = ChildConfig(work.path(), "https://example.invalid/repo.git");
  cfg.repo.token = "tok-SECRET-1234567890";
  auto r = SyncInChild(cfg, fake.string());
  REQUIRE(r);
  CHECK(r->commit == "abc");
  auto args = Slurp(work / "args");
  CHECK(args.find("tok-SECRET") == std::string::npos);
  CHECK(args.find("__sync") != std::string::npos);
  auto request = podcd::worker::DecodeSyncRequest(Slurp(work / "stdin"));
  REQUIRE(request);
  CHECK(request->repo.token == "tok-SECRET-1234567890");
  CHECK(request->repo.url == "https://example.invalid/repo.git");
  CHECK(request->state_dir == cfg.state_dir);
  auto env = Slurp(work / "env");
  CHECK(env.find("a-real-webhook-secret") == std::string::npos);
  CHECK(Slurp(work / "stdin").find("a-real-webhook-secret") == std::string::npos);
}

TEST_CASE("the sync child's environment carries no token, not even one the parent was given in its own") {
  TempDir work;
  auto fake = work.Write("fake-podcd",
                         "#!/bin/sh\n"
                         "env > \"$(dirname \"$0\")/env\"\n"
                         "cat >/dev/null\n"
                         "echo '{\"ok\":true,\"commit\":\"abc\",\"fetched\":false,\"changed\":false}'\n");
  fs::permissions(fake, fs::perms::owner_all);
  auto cfg = ChildConfig(work.path(), "https://example.invalid/repo.git");
  cfg.repo.token = "tok-SECRET-1234567890";
  setenv("PODCD_REPO_TOKEN", "tok-SECRET-1234567890", 1);
  setenv("PODCD_WEBHOOK_SECRET", "a-real-webhook-secret-the-child-must-not-see", 1);
  auto r = SyncInChild(cfg, fake.string());
  unsetenv("PODCD_REPO_TOKEN");
  unsetenv("PODCD_WEBHOOK_SECRET");
  REQUIRE(r);
  auto env = Slurp(work / "env");
  CHECK_FALSE(env.empty());
  CHECK(env.find("tok-SECRET") == std::string::npos);
  CHECK(env.find("PODCD_REPO_TOKEN") == std::string::npos);
  CHECK(env.find("a-real-webhook-secret") == std::string::npos);
  CHECK(env.find("PODCD_WEBHOOK_SECRET") == std::string::npos);
}

TEST_CASE("a hung remote hits the timeout in the child") {
  // A TCP listener that accepts (through the kernel backlog) and never answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto port = ntohs(addr.sin_port);

  TempDir work;
  auto cfg = ChildConfig(work.path(), "git://127.0.0.1:" + std::to_string(port) + "/repo.git");
  cfg.repo.sync_timeout = 1500ms;
  cfg.repo.allow_insecure = true;  // git://: the child refuses it unless its request says so
  auto r = SyncInChild(cfg, PODCD_BINARY);
  close(fd);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK_THAT(r.error().message, Catch::Contains("repo.sync_timeout"));
  // The daemon is free for the next sync: the state lock died with the child.
  GitRemote remote;
  cfg.repo.url = "file://" + remote.bare.string();
  cfg.repo.sync_timeout = 60s;
  auto ok = SyncInChild(cfg, PODCD_BINARY);
  INFO((ok ? "" : ok.error().What()));
  REQUIRE(ok);
  CHECK(ok->commit == remote.Head());
}

TEST_CASE("wrong credentials fail cleanly through the child, with their error code") {
  GitRemote remote;
  TempDir work;
  SshServer sshd(work / "sshd");
  auto cfg = ChildConfig(work.path(), sshd.Url(remote.bare));
  cfg.repo.known_hosts_file = work.Write("known_hosts", sshd.known_hosts_line()).string();
  cfg.repo.ssh_key_file = sshd.stranger_key().string();
  auto r = SyncInChild(cfg, PODCD_BINARY);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnauthenticated);
  cfg.repo.ssh_key_file = sshd.ed25519_key().string();
  auto ok = SyncInChild(cfg, PODCD_BINARY);
  INFO((ok ? "" : ok.error().What()));
  REQUIRE(ok);
  CHECK(ok->commit == remote.Head());
}

TEST_CASE("the child's JSON line round-trips") {
  using podcd::worker::FormatSyncLine;
  using podcd::worker::ParseSyncLine;
  podcd::worker::SyncResult s{"0123abcd", true, false};
  auto back = ParseSyncLine(FormatSyncLine(s));
  REQUIRE(back);
  CHECK(back->commit == "0123abcd");
  CHECK(back->fetched);
  CHECK_FALSE(back->changed);
  auto err = ParseSyncLine(FormatSyncLine(podcd::Fail(ErrorCode::kPermissionDenied, "host \"x\" refused")));
  REQUIRE_FALSE(err);
  CHECK(err.error().code == ErrorCode::kPermissionDenied);
  CHECK(err.error().message == "host \"x\" refused");
  CHECK_FALSE(ParseSyncLine("not json"));
  CHECK_FALSE(ParseSyncLine("{\"ok\":true}"));
}

TEST_CASE("__sync is an internal subcommand: runnable, but not in --help") {
  auto help = RunCommand(std::string(PODCD_BINARY) + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("__sync") == std::string::npos);
  auto bad = RunCommand(std::string(PODCD_BINARY) + " __sync extra-arg");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("\"ok\":false"));
}
