// The sync updates tracked files only: untracked and ignored files survive whatever a commit
// does to .gitignore, and a commit that would overwrite one is refused (real git, file://).
#include <catch2/catch.hpp>
#include <fstream>

#include "git/repo.hpp"
#include "git_fixture.hpp"

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

void Write(const fs::path& p, const std::string& body) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << body;
}

// Every regular file under `root`, relative path -> bytes.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = Slurp(e.path());
  }
  return out;
}

// Commits whatever the developer clone holds now (deletions included) and pushes.
std::string CommitAll(GitRemote& remote, const std::string& msg) {
  Git(remote.dev, "add -A");
  Git(remote.dev, "commit -q -m " + Quote(msg));
  Git(remote.dev, "push -q -f origin main");
  return remote.Head();
}

// The host's own data: secrets and a data directory that a stack binds, both git-ignored.
struct HostData {
  GitRemote remote;
  TempDir work;
  fs::path repo = work / "repo";
  fs::path state = work / "state";
  podcd::config::Config::Repo cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());

  HostData() {
    remote.Commit(
        {{".gitignore", "secrets/\nservices/db/data/\n"},
         {"services/db/compose.yml",
          "services:\n  db:\n    image: postgres\n    volumes: [\"./data:/var/lib/postgresql/data\"]\n"}},
        "db");
    MustSync(cfg, state);
    Write(repo / "secrets/db.env", "POSTGRES_PASSWORD=hunter2\n");
    Write(repo / "secrets/tls/key.pem", std::string("-----BEGIN KEY-----\n\0\x01\xff\n", 24));
    Write(repo / "services/db/data/PG_VERSION", "16\n");
    Write(repo / "services/db/data/base/1/1259", std::string(4096, '\x7f'));
  }
};

}  // namespace

TEST_CASE("a commit that stops ignoring secrets/ and data/ deletes and changes none of their files") {
  HostData h;
  auto secrets = Snapshot(h.repo / "secrets");
  auto data = Snapshot(h.repo / "services/db/data");
  REQUIRE(secrets.size() == 2);
  REQUIRE(data.size() == 2);

  SECTION(".gitignore edited") {
    auto head = h.remote.Commit({{".gitignore", "# nothing ignored any more\n"}}, "unignore");
    CHECK(MustSync(h.cfg, h.state).commit == head);
  }
  SECTION(".gitignore deleted") {
    Git(h.remote.dev, "rm -q .gitignore");
    auto head = CommitAll(h.remote, "no .gitignore");
    CHECK(MustSync(h.cfg, h.state).commit == head);
    CHECK_FALSE(fs::exists(h.repo / ".gitignore"));
  }
  CHECK(Snapshot(h.repo / "secrets") == secrets);
  CHECK(Snapshot(h.repo / "services/db/data") == data);
  // And on the syncs after it (nothing new, then a new commit).
  MustSync(h.cfg, h.state);
  h.remote.Commit({{"services/db/compose.yml", "services: {}\n"}}, "later");
  MustSync(h.cfg, h.state);
  CHECK(Snapshot(h.repo / "secrets") == secrets);
  CHECK(Snapshot(h.repo / "services/db/data") == data);
}

TEST_CASE("untracked files in a stack directory survive; tracked files follow the commit") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  remote.Commit({{"services/web/old.conf", "old\n"}, {"services/web/nginx.conf", "v1\n"}}, "web");
  MustSync(cfg, work / "state");
  Write(repo / "services/web/notes.txt", "untracked\n");
  Write(repo / "services/web/cache/index.bin", "cache\n");
  Write(repo / "services/ghost/compose.yml", "services: {}\n");
  Write(repo / "services/web/nginx.conf", "edited locally\n");

  Git(remote.dev, "rm -q services/web/old.conf");
  remote.Commit({{"services/web/new.conf", "new\n"}}, "replace old.conf");
  MustSync(cfg, work / "state");

  CHECK_FALSE(fs::exists(repo / "services/web/old.conf"));         // deleted by the commit
  CHECK(Slurp(repo / "services/web/new.conf") == "new\n");         // added by it
  CHECK(Slurp(repo / "services/web/nginx.conf") == "v1\n");        // local edit reverted
  CHECK(Slurp(repo / "services/web/notes.txt") == "untracked\n");  // untracked: kept
  CHECK(Slurp(repo / "services/web/cache/index.bin") == "cache\n");
  CHECK(Slurp(repo / "services/ghost/compose.yml") == "services: {}\n");
  CHECK(Git(repo, "status --porcelain --untracked-files=no").empty());
}

TEST_CASE("a commit that would overwrite an untracked file is refused and writes nothing") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  auto before = MustSync(cfg, work / "state").commit;
  Write(repo / "services/web/override.yml", "mine\n");

  remote.Commit({{"services/web/override.yml", "theirs\n"}, {"services/web/compose.yml", "changed\n"}},
                "adds override.yml");
  auto r = SyncRepo(cfg, (work / "state").string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kAlreadyExists);
  CHECK_THAT(r.error().message, Catch::Contains("services/web/override.yml"));
  CHECK(Slurp(repo / "services/web/override.yml") == "mine\n");
  CHECK(Slurp(repo / "services/web/compose.yml") == "services: {}\n");  // nothing written
  CHECK(Trim(Git(repo, "rev-parse HEAD")) == before);

  // The same bytes lose nothing: the file is adopted and the sync goes through.
  Write(repo / "services/web/override.yml", "theirs\n");
  auto ok = MustSync(cfg, work / "state");
  CHECK(ok.commit == remote.Head());
  CHECK(Slurp(repo / "services/web/compose.yml") == "changed\n");
  CHECK(Git(repo, "status --porcelain").empty());
}

TEST_CASE("a commit adding a file in the secrets directory never overwrites the host's file") {
  HostData h;
  const std::string before(Trim(Git(h.repo, "rev-parse HEAD")));
  SECTION("different bytes") { Write(h.remote.dev / "secrets/db.env", "POSTGRES_PASSWORD=attacker\n"); }
  SECTION("the same bytes") { Write(h.remote.dev / "secrets/db.env", "POSTGRES_PASSWORD=hunter2\n"); }
  Git(h.remote.dev, "add -f secrets/db.env");
  CommitAll(h.remote, "commits a secret");
  auto r = SyncRepo(h.cfg, h.state.string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kAlreadyExists);
  CHECK_THAT(r.error().message, Catch::Contains("secrets/db.env"));
  CHECK(Slurp(h.repo / "secrets/db.env") == "POSTGRES_PASSWORD=hunter2\n");
  CHECK(Trim(Git(h.repo, "rev-parse HEAD")) == before);
}

TEST_CASE("a tracked directory that becomes a file keeps the ignored files inside it") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  remote.Commit({{"services/app/.gitignore", "state/*.db\n"}, {"services/app/state/README", "state\n"}},
                "dir");
  MustSync(cfg, work / "state");
  Write(repo / "services/app/state/app.db", "rows\n");

  Git(remote.dev, "rm -q -r services/app/state");
  remote.Commit({{"services/app/state", "now a file\n"}}, "dir becomes a file");
  auto r = SyncRepo(cfg, (work / "state").string());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kAlreadyExists);
  CHECK_THAT(r.error().message, Catch::Contains("services/app/state/app.db"));
  CHECK(Slurp(repo / "services/app/state/app.db") == "rows\n");
  CHECK(Slurp(repo / "services/app/state/README") == "state\n");
}

TEST_CASE("a checkout killed half-way is finished by the next sync") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  MustSync(cfg, work / "state");
  // As a kill leaves it: the new commit fetched, some of its new files written (one of them
  // cut short), the index and HEAD still at the old commit, and the marker naming the target.
  auto head = remote.Commit({{"services/a/compose.yml", "services: {a: {image: a}}\n"},
                             {"services/b/compose.yml", "services: {b: {image: b}}\n"}},
                            "two stacks");
  Git(repo, "fetch -q origin +refs/heads/main:refs/remotes/origin/main");
  Write(repo / "services/a/compose.yml", "services: {a: {image: a}}\n");
  Write(repo / "services/b/compose.yml", "services: {b:");
  std::ofstream(repo / ".git/podcd-checkout") << head << "\n";

  auto r = MustSync(cfg, work / "state");
  CHECK(r.commit == head);
  CHECK(Slurp(repo / "services/b/compose.yml") == "services: {b: {image: b}}\n");
  CHECK_FALSE(fs::exists(repo / ".git/podcd-checkout"));
  CHECK(Git(repo, "status --porcelain").empty());
}

TEST_CASE("a tracked path replaced by hand with another kind of entry keeps what is in it") {
  GitRemote remote;
  TempDir work;
  auto repo = work / "repo";
  auto cfg = RepoConfig(repo.string(), "file://" + remote.bare.string());
  remote.Commit({{"services/app/conf/a.conf", "a\n"}, {"services/app/x.conf", "x\n"}}, "app");
  MustSync(cfg, work / "state");
  SECTION("a tracked directory replaced by an untracked file; the commit turns it into a file") {
    fs::remove_all(repo / "services/app/conf");
    Write(repo / "services/app/conf", "mine\n");
    Git(remote.dev, "rm -q -r services/app/conf");
    remote.Commit({{"services/app/conf", "theirs\n"}}, "conf becomes a file");
    // libgit2 alone removes the file without a word (and writes nothing in its place).
    auto r = SyncRepo(cfg, (work / "state").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == podcd::ErrorCode::kAlreadyExists);
    CHECK_THAT(r.error().message, Catch::Contains("services/app/conf"));
    CHECK(Slurp(repo / "services/app/conf") == "mine\n");
  }
  SECTION("a tracked file replaced by a directory of untracked data; the commit changes the file") {
    fs::remove(repo / "services/app/x.conf");
    Write(repo / "services/app/x.conf/data.bin", "data\n");
    remote.Commit({{"services/app/x.conf", "x2\n"}}, "x changes");
    auto r = SyncRepo(cfg, (work / "state").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == podcd::ErrorCode::kAlreadyExists);
    CHECK_THAT(r.error().message, Catch::Contains("services/app/x.conf/data.bin"));
    CHECK(Slurp(repo / "services/app/x.conf/data.bin") == "data\n");
  }
}
