#include "util/context_ignore.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

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

namespace {

// The backtracking matcher podcd had before Glob, kept as the reference Glob must agree with.
bool ClassRef(std::string_view glob, char c, std::size_t& len) {
  std::size_t i = 1;
  bool negate = false;
  if (i < glob.size() && (glob[i] == '^' || glob[i] == '!')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  for (; i < glob.size() && (glob[i] != ']' || first); first = false) {
    char lo = glob[i];
    if (lo == '\\' && i + 1 < glob.size()) lo = glob[++i];
    char hi = lo;
    if (i + 2 < glob.size() && glob[i + 1] == '-' && glob[i + 2] != ']') {
      hi = glob[i + 2];
      if (hi == '\\' && i + 3 < glob.size()) hi = glob[++i + 2];
      i += 2;
    }
    if (lo <= c && c <= hi) found = true;
    ++i;
  }
  if (i >= glob.size()) return false;
  len = i + 1;
  return found != negate && c != '/';
}

bool Backtracking(std::string_view g, std::string_view p) {
  while (!g.empty()) {
    if (g.starts_with("**")) {
      g.remove_prefix(2);
      if (g.starts_with('/') && Backtracking(g.substr(1), p)) return true;
      for (std::size_t i = 0; i <= p.size(); ++i) {
        if (Backtracking(g, p.substr(i))) return true;
      }
      return false;
    }
    switch (g.front()) {
      case '*': {
        g.remove_prefix(1);
        for (std::size_t i = 0; i <= p.size(); ++i) {
          if (Backtracking(g, p.substr(i))) return true;
          if (i < p.size() && p[i] == '/') break;
        }
        return false;
      }
      case '?':
        if (p.empty() || p.front() == '/') return false;
        g.remove_prefix(1);
        p.remove_prefix(1);
        break;
      case '[': {
        std::size_t len = 0;
        if (p.empty() || !ClassRef(g, p.front(), len)) return false;
        g.remove_prefix(len);
        p.remove_prefix(1);
        break;
      }
      case '\\':
        if (g.size() > 1) g.remove_prefix(1);
        [[fallthrough]];
      default:
        if (p.empty() || p.front() != g.front()) return false;
        g.remove_prefix(1);
        p.remove_prefix(1);
    }
  }
  return p.empty();
}

}  // namespace

TEST_CASE("the one-pass matcher agrees with the backtracking one on every pattern tried") {
  // Short random patterns and paths over the characters that mean something, plus letters.
  std::uint32_t state = 12345;
  auto next = [&](std::size_t n) {
    state = state * 1103515245u + 12345u;
    return static_cast<std::size_t>(state >> 16) % n;
  };
  const std::string_view glob_chars = "ab/*?[]-^!\\";
  const std::string_view path_chars = "ab/-]";
  int matched = 0;
  for (int round = 0; round < 200'000; ++round) {
    std::string glob;
    std::string path;
    for (std::size_t i = next(9); i > 0; --i) glob += glob_chars[next(glob_chars.size())];
    for (std::size_t i = next(9); i > 0; --i) path += path_chars[next(path_chars.size())];
    const bool want = Backtracking(glob, path);
    matched += want ? 1 : 0;
    INFO("glob \"" << glob << "\" path \"" << path << "\"");
    REQUIRE(GlobMatch(glob, path) == want);
  }
  CHECK(matched > 1000);  // the rounds tried matches, not only misses
}

TEST_CASE("a hostile pattern is matched in linear time, not exponential") {
  // Backtracking tried every way to place 20 stars in 5,000 a's: longer than anyone waits.
  std::string stars;
  for (int i = 0; i < 20; ++i) stars += "*a";
  const std::string path(5'000, 'a');
  auto ig = ContextIgnore::Parse(stars + "*b\n" + "**a**a**a**a**a**a**a**a**a**a**a**a**b\n" + "!" + stars +
                                 "*c\n");
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(GlobMatch(stars + "*b", path));
  CHECK(GlobMatch(stars + "*", path));
  CHECK_FALSE(ig.Excluded(path));
  CHECK_FALSE(ig.Excluded(path + "/" + path + "/" + path));
  CHECK(ig.Excluded(path + "b"));
  CHECK(ig.Excluded(path + "/" + path + "b"));  // ** spans the "/", * does not
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("an ignore file of more patterns than any real one is refused") {
  test::TempDir t;
  std::string many;
  for (std::size_t i = 0; i <= ContextIgnore::kMaxPatterns; ++i) many += "f" + std::to_string(i) + "\n";
  t.Write(".dockerignore", many);
  auto r = ContextIgnore::Load(t.path());
  REQUIRE_FALSE(r);
  CHECK(r.error().message == ".dockerignore has more than 10000 patterns, podcd's limit");
  t.Write(".dockerignore", many.substr(0, many.rfind("f10000")));
  CHECK(ContextIgnore::Load(t.path()).has_value());
}
