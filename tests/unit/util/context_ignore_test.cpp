#include "util/context_ignore.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace podcd;

TEST_CASE("glob patterns: * and ? stay within a path element, ** spans them") {
  CHECK(GlobMatch("*.log", "a.log"));
  CHECK_FALSE(GlobMatch("*.log", "dir/a.log"));
  CHECK(GlobMatch("*/*.log", "dir/a.log"));
  CHECK(GlobMatch("**/*.log", "a.log"));
  CHECK(GlobMatch("**/*.log", "x/y/a.log"));
  CHECK(GlobMatch("dir/**", "dir/a/b"));
  CHECK(GlobMatch("a/**/b", "a/b"));
  CHECK(GlobMatch("a/**/b", "a/x/y/b"));
  CHECK_FALSE(GlobMatch("a/**/b", "a/x/y/c"));
  CHECK(GlobMatch("file?.txt", "file1.txt"));
  CHECK_FALSE(GlobMatch("file?.txt", "file/.txt"));
  CHECK(GlobMatch("[a-c]x", "bx"));
  CHECK_FALSE(GlobMatch("[a-c]x", "dx"));
  CHECK(GlobMatch("[^a-c]x", "dx"));
  CHECK_FALSE(GlobMatch("[a-c", "a"));  // an unclosed class matches nothing
  CHECK(GlobMatch("\\*.txt", "*.txt"));
  CHECK_FALSE(GlobMatch("\\*.txt", "a.txt"));
  CHECK(GlobMatch("node_modules", "node_modules"));
  CHECK_FALSE(GlobMatch("node_modules", "node_modules2"));
}

TEST_CASE(".dockerignore rules: comments, leading slash, parent directories, exceptions, last match wins") {
  auto ig = ContextIgnore::Parse(
      "# build output\n"
      "/node_modules\n"
      "*.log\n"
      "!keep.log\n"
      "  data/  \n"
      "docs/**/*.md\n"
      "!docs/README.md\n"
      "./tmp/../cache\n"
      "\n");
  CHECK(ig.HasExceptions());
  CHECK(ig.Excluded("node_modules"));
  CHECK(ig.Excluded("node_modules/lib/index.js"));  // below an excluded directory
  CHECK_FALSE(ig.Excluded("src/node_modules"));     // patterns are anchored at the context
  CHECK(ig.Excluded("debug.log"));
  CHECK_FALSE(ig.Excluded("keep.log"));
  CHECK_FALSE(ig.Excluded("logs/debug.log"));  // * does not cross '/'
  CHECK(ig.Excluded("data"));
  CHECK(ig.Excluded("data/db/file"));
  CHECK(ig.Excluded("docs/a/b.md"));
  CHECK(ig.Excluded("docs/b.md"));
  CHECK_FALSE(ig.Excluded("docs/README.md"));
  CHECK(ig.Excluded("cache/x"));  // cleaned like filepath.Clean
  CHECK_FALSE(ig.Excluded("tmp"));
  CHECK_FALSE(ig.Excluded("Containerfile"));
  CHECK_FALSE(ig.Excluded("# build output"));

  // An exception below an excluded directory re-includes it; a later exclusion wins again.
  auto nested = ContextIgnore::Parse("assets\n!assets/keep\nassets/keep/secret\n");
  CHECK(nested.Excluded("assets/a.png"));
  CHECK_FALSE(nested.Excluded("assets/keep/b.png"));
  CHECK(nested.Excluded("assets/keep/secret"));

  auto none = ContextIgnore::Parse("# nothing\n\n");
  CHECK(none.Empty());
  CHECK_FALSE(none.Excluded("anything"));
}

TEST_CASE("the ignore file: .containerignore first, then .dockerignore, else none") {
  test::TempDir t;
  auto none = ContextIgnore::Load(t.path());
  REQUIRE(none);
  CHECK(none->Empty());
  CHECK(none->File().empty());
  t.Write(".dockerignore", "*.log\n");
  auto docker = ContextIgnore::Load(t.path());
  REQUIRE(docker);
  CHECK(docker->File() == ".dockerignore");
  CHECK(docker->Excluded("a.log"));
  t.Write(".containerignore", "*.tmp\n");
  auto podman = ContextIgnore::Load(t.path());
  REQUIRE(podman);
  CHECK(podman->File() == ".containerignore");
  CHECK(podman->Excluded("a.tmp"));
  CHECK_FALSE(podman->Excluded("a.log"));
}
