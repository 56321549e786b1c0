// Path safety: nothing a stack references may escape the repository or the secrets directory.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;
namespace fs = std::filesystem;

namespace {
bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("dot-dot out of the repository is refused for every path kind") {
  Repo repo;
  repo.tmp.Write("outside.env", "A=1\n");
  repo.tmp.Write("outside.conf", "x\n");
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x, env_file: ../../../outside.env}}\n"),
                 "points outside the repository"));
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x, volumes: [\"../../../outside.conf:/c\"]}}\n"),
                 "points outside the repository"));
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x}}\nconfigs: {c: {file: ../../../outside.conf}}\n"),
                 "points outside the repository"));
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x}}\nsecrets: {c: {file: ../../../outside.conf}}\n"),
                 "points outside the repository"));
  auto err = repo.Errors("p", "services: {a: {image: x, env_file: ../../../outside.env}}\n");
  CHECK(Contains(err, "services/p/compose.yml:1:36: services.a.env_file"));
}

TEST_CASE(
    "absolute paths: into the repo they count as repo files, elsewhere they are refused or host binds") {
  Repo repo;
  repo.Write("services/p/conf", "x\n");
  repo.tmp.Write("outside.env", "A=1\n");
  auto abs_conf = (repo.Root() / "services/p/conf").string();
  auto s = repo.Ok("p", "services: {a: {image: x, volumes: [\"" + abs_conf + ":/c:ro\"]}}\n");
  CHECK(s.services[0].volumes[0].repo_path == "services/p/conf");
  CHECK(s.files.contains("services/p/conf"));
  auto env = (repo.tmp.path() / "outside.env").string();
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x, env_file: " + env + "}}\n"), "points outside"));
  auto host = repo.Ok("p", "services: {a: {image: x, volumes: [\"/srv/data:/d\"]}}\n");
  CHECK(host.services[0].volumes[0].repo_path.empty());
  CHECK(host.services[0].volumes[0].source == "/srv/data");
  CHECK(host.files.empty());
}

TEST_CASE("symlinks that leave the repository are refused") {
  Repo repo;
  repo.tmp.Write("outside/secret.conf", "x\n");
  repo.Write("services/p/placeholder", "");
  fs::create_symlink(repo.tmp.path() / "outside/secret.conf", repo.Root() / "services/p/link.conf");
  fs::create_symlink(repo.tmp.path() / "outside", repo.Root() / "services/p/linkdir");
  fs::create_symlink("/etc", repo.Root() / "services/p/etc");
  for (const char* use : {"env_file: link.conf", "volumes: [\"./link.conf:/c\"]",
                          "volumes: [\"./linkdir/secret.conf:/c\"]", "volumes: [\"./etc:/e:ro\"]"}) {
    auto err = repo.Errors("p", std::string("services: {a: {image: x, ") + use + "}}\n");
    CHECK(Contains(err, "resolves through a symlink"));
  }
  auto cfg = repo.Errors("p", "services: {a: {image: x}}\nconfigs: {c: {file: ./link.conf}}\n");
  CHECK(Contains(cfg, "resolves through a symlink"));
}

TEST_CASE("symlinks inside the repository are followed") {
  Repo repo;
  repo.Write("services/p/real.conf", "x\n");
  fs::create_symlink("real.conf", repo.Root() / "services/p/link.conf");
  auto s = repo.Ok("p", "services: {a: {image: x, volumes: [\"./link.conf:/c\"]}}\n");
  CHECK(s.services[0].volumes[0].repo_path == "services/p/real.conf");
}

TEST_CASE("symlink loops are an error, not a hang") {
  Repo repo;
  repo.Write("services/p/placeholder", "");
  fs::create_symlink("loop-b", repo.Root() / "services/p/loop-a");
  fs::create_symlink("loop-a", repo.Root() / "services/p/loop-b");
  auto err = repo.Errors("p", "services: {a: {image: x, env_file: loop-a}}\n");
  CHECK(Contains(err, "symlink loop"));
  auto err2 = repo.Errors("p", "services: {a: {image: x, volumes: [\"./loop-a:/x\"]}}\n");
  CHECK(Contains(err2, "symlink loop"));
}

TEST_CASE("home-relative paths and non-regular env files are refused") {
  Repo repo;
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x, volumes: [\"~/x:/x\"]}}\n"),
                 "paths starting with ~ are not supported"));
  repo.Write("services/q/dir.env/file", "x");
  CHECK(Contains(repo.Errors("q", "services: {a: {image: x, env_file: dir.env}}\n"), "not a regular file"));
}

TEST_CASE("a compose file reached through a symlink out of the repository is refused") {
  Repo repo;
  repo.tmp.Write("evil.yml", "services: {a: {image: x}}\n");
  fs::create_directories(repo.Root() / "services/evil");
  fs::create_symlink(repo.tmp.path() / "evil.yml", repo.Root() / "services/evil/compose.yml");
  auto r = compose::LoadStack(repo.Dir("evil"), repo.options);
  REQUIRE_FALSE(r);
  CHECK(Contains(Join(r.error()), "outside the repository"));
}

TEST_CASE("git-ignored bind directories are not hashed") {
  Repo repo;
  repo.Write("services/p/data/db.bin", "1");
  repo.options.is_ignored = [](std::string_view rel) { return rel == "services/p/data"; };
  auto a = repo.Ok("p", "services: {a: {image: x, volumes: [\"./data:/d\"]}}\n");
  repo.Write("services/p/data/db.bin", "2");
  auto b = repo.Ok("p", "services: {a: {image: x, volumes: [\"./data:/d\"]}}\n");
  CHECK(a.files.at("services/p/data").sha256 == b.files.at("services/p/data").sha256);
  repo.options.is_ignored = nullptr;
  auto c = repo.Ok("p", "services: {a: {image: x, volumes: [\"./data:/d\"]}}\n");
  CHECK(c.files.at("services/p/data").sha256 != b.files.at("services/p/data").sha256);
}

TEST_CASE("a stack's .env that is a symlink out of the repository is refused") {
  Repo repo;
  repo.Write("services/p/placeholder", "");
  std::filesystem::create_symlink("/etc/passwd", repo.Root() / "services/p/.env");
  auto err = repo.Errors("p", "services: {a: {image: x}}\n");
  CHECK(Contains(err, "services/p/.env: \".env\" resolves through a symlink to /etc/passwd"));
}

TEST_CASE("a Containerfile that is a symlink out of its build context is refused, naming only its path") {
  Repo repo;
  repo.tmp.Write("shadow", "root:$6$SECRET-HASH-CANARY:19000:0:99999:7:::\n");
  repo.Write("services/b/app/main.c", "int main(){}\n");
  fs::create_symlink(repo.tmp.path() / "shadow", repo.Root() / "services/b/app/Containerfile");
  const std::string compose = "services: {a: {build: ./app}}\n";
  auto err = repo.Errors("b", compose);
  CHECK(Contains(
      err, "Containerfile in the build context services/b/app is not a regular file inside the context"));
  CHECK(!Contains(err, "CANARY"));
  // Named explicitly, and through a directory symlink: the same.
  fs::remove(repo.Root() / "services/b/app/Containerfile");
  repo.Write("services/b/app/Containerfile", "FROM alpine\n");
  fs::create_symlink(repo.tmp.path() / "shadow", repo.Root() / "services/b/app/Evil");
  err = repo.Errors("b", "services: {a: {build: {context: ./app, dockerfile: Evil}}}\n");
  CHECK(Contains(err, "Evil in the build context services/b/app is not a regular file inside the context"));
  // A symlink that stays in the context is followed.
  fs::create_symlink("Containerfile", repo.Root() / "services/b/app/Linked");
  repo.Ok("b", "services: {a: {build: {context: ./app, dockerfile: Linked}}}\n");
}
