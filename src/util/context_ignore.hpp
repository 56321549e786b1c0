// A build context's ignore file (.containerignore, else .dockerignore, as Podman reads them):
// the paths `podman build` leaves out of the context. podcd applies it twice: to the context it
// sends to Podman, and to the context's digest, so that an ignored file (a log, node_modules)
// neither travels nor changes the service's fingerprint.
//
// The rules are Docker's (moby/patternmatcher): one pattern per line, `#` starts a comment,
// a leading `/` is dropped (paths are relative to the context), `!` re-includes; `*` and `?`
// stay within one path element, `**` spans any number of them, `[...]` is a class, `\` escapes.
// A pattern that matches a directory excludes everything below it; the last matching pattern
// decides.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd {

// One pattern of the language above, compiled once and matched in one pass over a path with
// the set of places in the pattern it may have reached (an automaton, not backtracking):
// O(pattern x path) at worst, where a backtracking matcher takes exponential time on
// `*a*a*a*a*a*a*a*a*a*a*a*a*b` against a long "aaaa...".
class Glob {
 public:
  explicit Glob(std::string_view pattern);
  // Whether the pattern matches all of `path`.
  [[nodiscard]] bool Matches(std::string_view path) const;

 private:
  struct Step {
    enum class Kind : unsigned char { kChar, kAny, kClass, kStar, kAnyPath, kNever };
    Kind kind = Kind::kChar;
    char c = 0;             // kChar
    bool may_skip = false;  // kAnyPath followed by '/': "**/" may also stand for nothing
    std::size_t at = 0;     // kClass: where its "[...]" begins in text_
  };
  void Add(std::size_t state, std::size_t stamp, std::vector<std::size_t>& seen,
           std::vector<std::size_t>& into, bool looped) const;

  std::string text_;
  std::vector<Step> steps_;
  bool literal_ = true;  // no wildcard: `plain_` is the only path it matches
  std::string plain_;
};

class ContextIgnore {
 public:
  static constexpr std::size_t kMaxPatterns = 10'000;

  // Reads <dir>/.containerignore, else <dir>/.dockerignore; neither: ignores nothing. More
  // than kMaxPatterns patterns is an error.
  static Expected<ContextIgnore> Load(const std::filesystem::path& dir);
  static ContextIgnore Parse(std::string_view text, std::string file = {});

  // `rel`: a path relative to the context, '/'-separated, no leading "./".
  bool Excluded(std::string_view rel) const;
  // For a walk of the context: whether `rel` is left out (a path in `keep` never is), and
  // whether the left-out directory `dir` can be skipped whole (no exception could re-include
  // anything below it, and nothing below it is kept).
  bool LeavesOut(std::string_view rel, const std::vector<std::string>& keep) const;
  bool SkipsWhole(std::string_view dir, const std::vector<std::string>& keep) const;
  bool HasExceptions() const { return has_exceptions_; }
  bool Empty() const { return patterns_.empty(); }
  const std::string& File() const { return file_; }  // ".dockerignore", or "" when none

 private:
  struct Pattern {
    Glob glob;
    bool exception = false;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
  std::string file_;
};

// Whether `glob` (the pattern language above) matches all of `path`.
bool GlobMatch(std::string_view glob, std::string_view path);

}  // namespace podcd
