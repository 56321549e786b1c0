#include "util/tar.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
namespace fs = std::filesystem;

namespace {
std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("a directory archived by TarDirectory extracts with tar(1) to the same tree") {
  test::TempDir t;
  const std::string deep = std::string(60, 'd') + "/" + std::string(60, 'e') + "/" + std::string(60, 'f');
  t.Write("ctx/Containerfile", "FROM localhost/bb:1\n");
  t.Write("ctx/www/index.html", "hello\n");
  t.Write("ctx/" + deep + "/long.txt", std::string(1000, 'x'));  // > 100 bytes of path
  t.Write("ctx/empty.txt", "");
  t.Write("ctx/.git/HEAD", "ref: refs/heads/main\n");
  fs::create_directories(t / "ctx/emptydir");
  fs::create_symlink("www/index.html", t / "ctx/link");
  fs::permissions(t / "ctx/Containerfile", fs::perms::owner_exec, fs::perm_options::add);

  auto tar =
      TarDirectory(t / "ctx", {.skip_top = {".git"}, .max_bytes = 1 << 20, .ignore = nullptr, .keep = {}});
  REQUIRE(tar);
  CHECK(tar->size() % 512 == 0);
  std::ofstream(t / "ctx.tar", std::ios::binary) << *tar;
  fs::create_directories(t / "out");
  auto r = test::RunCommand("tar -xf " + (t / "ctx.tar").string() + " -C " + (t / "out").string() + " 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Slurp(t / "out/www/index.html") == "hello\n");
  CHECK(Slurp(t / "out" / deep / "long.txt") == std::string(1000, 'x'));
  CHECK(Slurp(t / "out/empty.txt").empty());
  CHECK(fs::is_directory(t / "out/emptydir"));
  CHECK(fs::read_symlink(t / "out/link") == "www/index.html");
  CHECK((fs::status(t / "out/Containerfile").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK_FALSE(fs::exists(t / "out/.git"));
  // tar(1) reads the checksums and the ustar fields without a warning.
  auto list = test::RunCommand("tar -tvf " + (t / "ctx.tar").string() + " 2>&1");
  CHECK(list.output.find("warning") == std::string::npos);
  CHECK(list.output.find("root/root") != std::string::npos);
}

TEST_CASE("what ustar cannot carry, and an archive over its limit, are errors naming the path") {
  test::TempDir t;
  t.Write("ctx/" + std::string(120, 'n') + ".txt", "x");  // one name over 100 bytes, no '/' to split at
  auto tar = TarDirectory(t / "ctx");
  REQUIRE_FALSE(tar);
  CHECK(tar.error().What().find("path too long for a tar archive") != std::string::npos);
  CHECK(tar.error().What().find(std::string(120, 'n')) != std::string::npos);

  test::TempDir big;
  big.Write("ctx/a.bin", std::string(4096, 'a'));
  auto limited =
      TarDirectory(big / "ctx", {.skip_top = {}, .max_bytes = 2048, .ignore = nullptr, .keep = {}});
  REQUIRE_FALSE(limited);
  CHECK(limited.error().What().find("more than") != std::string::npos);
}

TEST_CASE("a context's ignore file leaves its paths out of the archive, except the kept ones") {
  test::TempDir t;
  t.Write("ctx/Containerfile", "FROM localhost/bb:1\n");
  t.Write("ctx/.dockerignore", "Containerfile\n*.log\n!keep.log\nnode_modules\n.dockerignore\n");
  t.Write("ctx/app.txt", "app\n");
  t.Write("ctx/debug.log", "noise\n");
  t.Write("ctx/keep.log", "kept\n");
  t.Write("ctx/node_modules/lib/index.js", "big\n");
  auto ignore = ContextIgnore::Load(t / "ctx");
  REQUIRE(ignore);
  auto tar = TarDirectory(t / "ctx", {.skip_top = {".git"},
                                      .max_bytes = 1 << 20,
                                      .ignore = &*ignore,
                                      .keep = {"Containerfile", ".dockerignore"}});
  REQUIRE(tar);
  std::ofstream(t / "ctx.tar", std::ios::binary) << *tar;
  auto list = test::RunCommand("tar -tf " + (t / "ctx.tar").string() + " 2>&1");
  INFO(list.output);
  REQUIRE(list.exit_code == 0);
  CHECK(list.output == ".dockerignore\nContainerfile\napp.txt\nkeep.log\n");
}
