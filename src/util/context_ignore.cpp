#include "util/context_ignore.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace podcd {
namespace {

// Matches a `[...]` class at glob[0] against c; sets `len` to the class's length in the glob.
// A class without its closing `]` matches nothing.
bool ClassMatch(std::string_view glob, char c, std::size_t& len) {
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

// filepath.Clean of a '/'-separated pattern, without the leading '/' (paths are relative to
// the context): no "." or empty elements, ".." resolved where it can be.
std::string Clean(std::string_view pattern) {
  std::string out = std::filesystem::path(pattern).lexically_normal().generic_string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (out.starts_with('/')) out.erase(0, 1);
  return out.empty() ? "." : out;
}

}  // namespace

Glob::Glob(std::string_view pattern) : text_(pattern) {
  const std::string_view g = text_;
  std::size_t i = 0;
  while (i < g.size()) {
    Step step;
    if (g.substr(i).starts_with("**")) {
      i += 2;
      step.kind = Step::Kind::kAnyPath;
      step.may_skip = i < g.size() && g[i] == '/';
    } else if (g[i] == '*') {
      step.kind = Step::Kind::kStar;
      ++i;
    } else if (g[i] == '?') {
      step.kind = Step::Kind::kAny;
      ++i;
    } else if (g[i] == '[') {
      std::size_t len = 0;
      ClassMatch(g.substr(i), 'a', len);  // sets len only when the class is closed
      step.kind = len == 0 ? Step::Kind::kNever : Step::Kind::kClass;
      step.at = i;
      i = len == 0 ? g.size() : i + len;  // an unclosed class matches nothing: the rest does not matter
    } else {
      if (g[i] == '\\' && i + 1 < g.size()) ++i;
      step.c = g[i++];
      plain_.push_back(step.c);
    }
    literal_ = literal_ && step.kind == Step::Kind::kChar;
    steps_.push_back(step);
  }
}

// Adds `state` and the states it reaches without reading a character to `into`, once per
// stamp: past a star that stands for nothing, and past "**/" that stands for no directory,
// which it may only do before it reads anything (`looped`: `state` is a star that just read
// one). These moves only go forward, so the walk is a single chain.
void Glob::Add(std::size_t state, std::size_t stamp, std::vector<std::size_t>& seen,
               std::vector<std::size_t>& into, bool looped) const {
  for (std::size_t s = state;; looped = false) {
    const bool skip = s < steps_.size() && steps_[s].may_skip && !looped;
    if (seen[s] != stamp) {
      seen[s] = stamp;
      into.push_back(s);
    } else if (!skip) {
      return;  // here already, with what it reaches
    }
    if (s == steps_.size()) return;
    const Step& step = steps_[s];
    if (step.kind != Step::Kind::kStar && step.kind != Step::Kind::kAnyPath) return;
    ++s;  // the star stands for nothing; after "**", s is the '/', a character to read
    if (!steps_[s - 1].may_skip) continue;
    if (seen[s] != stamp) {
      seen[s] = stamp;
      into.push_back(s);
    }
    if (!skip) return;
    ++s;
  }
}

bool Glob::Matches(std::string_view path) const {
  if (literal_) return path == plain_;
  std::vector<std::size_t> seen(steps_.size() + 1, static_cast<std::size_t>(-1));
  std::vector<std::size_t> now;
  std::vector<std::size_t> next;
  Add(0, 0, seen, now, false);
  for (std::size_t i = 0; i < path.size() && !now.empty(); ++i) {
    const char c = path[i];
    next.clear();
    for (const std::size_t s : now) {
      if (s == steps_.size()) continue;
      const Step& step = steps_[s];
      std::size_t len = 0;
      bool advance = false;
      switch (step.kind) {
        case Step::Kind::kChar: advance = c == step.c; break;
        case Step::Kind::kAny: advance = c != '/'; break;
        case Step::Kind::kClass: advance = ClassMatch(std::string_view(text_).substr(step.at), c, len); break;
        case Step::Kind::kStar:
          if (c != '/') Add(s, i + 1, seen, next, true);
          break;
        case Step::Kind::kAnyPath: Add(s, i + 1, seen, next, true); break;
        case Step::Kind::kNever: break;
      }
      if (advance) Add(s + 1, i + 1, seen, next, false);
    }
    now.swap(next);
  }
  return seen[steps_.size()] == path.size();  // reached the end with the last character
}

bool GlobMatch(std::string_view glob, std::string_view path) { return Glob(glob).Matches(path); }

ContextIgnore ContextIgnore::Parse(std::string_view text, std::string file) {
  ContextIgnore out;
  out.file_ = std::move(file);
  for (std::string_view line : SplitLines(text)) {
    if (line.starts_with('#')) continue;
    line = Trim(line);
    if (line.empty()) continue;
    bool exception = false;
    if (line.front() == '!') {
      exception = true;
      line = Trim(line.substr(1));
      if (line.empty()) continue;
    }
    out.has_exceptions_ = out.has_exceptions_ || exception;
    out.patterns_.push_back(Pattern{Glob(Clean(line)), exception});
  }
  return out;
}

Expected<ContextIgnore> ContextIgnore::Load(const std::filesystem::path& dir) {
  for (const char* name : {".containerignore", ".dockerignore"}) {
    std::error_code ec;
    if (!std::filesystem::exists(dir / name, ec)) continue;
    auto text = ReadFile(dir / name, 1u << 20);
    if (!text) return std::unexpected(text.error());
    ContextIgnore out = Parse(*text, name);
    // Every path of the context is matched against every pattern.
    if (out.patterns_.size() > kMaxPatterns) {
      return Fail(
          ErrorCode::kInvalidArgument,
          std::string(name) + " has more than " + std::to_string(kMaxPatterns) + " patterns, podcd's limit",
          (dir / name).string());
    }
    return out;
  }
  return ContextIgnore{};
}

bool ContextIgnore::Excluded(std::string_view rel) const {
  bool excluded = false;
  for (const auto& p : patterns_) {
    // An exclusion only matters while the path is included, an exception while it is not.
    if (p.exception != excluded) continue;
    bool match = p.glob.Matches(rel);
    // ...or one of its parent directories matches.
    for (std::size_t slash = rel.find('/'); !match && slash != std::string_view::npos;
         slash = rel.find('/', slash + 1)) {
      match = p.glob.Matches(rel.substr(0, slash));
    }
    if (match) excluded = !p.exception;
  }
  return excluded;
}

bool ContextIgnore::LeavesOut(std::string_view rel, const std::vector<std::string>& keep) const {
  return !patterns_.empty() && std::find(keep.begin(), keep.end(), rel) == keep.end() && Excluded(rel);
}

bool ContextIgnore::SkipsWhole(std::string_view dir, const std::vector<std::string>& keep) const {
  return !has_exceptions_ && std::none_of(keep.begin(), keep.end(), [&](const std::string& k) {
    return k.size() > dir.size() && k.starts_with(dir) && k[dir.size()] == '/';
  });
}

}  // namespace podcd
