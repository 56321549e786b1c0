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

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd {

class ContextIgnore {
 public:
  // Reads <dir>/.containerignore, else <dir>/.dockerignore; neither: ignores nothing.
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
    std::string glob;
    bool exception = false;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
  std::string file_;
};

// Whether `glob` (the pattern language above) matches all of `path`.
bool GlobMatch(std::string_view glob, std::string_view path);

}  // namespace podcd
