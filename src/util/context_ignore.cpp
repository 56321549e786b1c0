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

bool Match(std::string_view g, std::string_view p) {
  while (!g.empty()) {
    if (g.starts_with("**")) {
      g.remove_prefix(2);
      // "**/" may stand for no directory at all ("**/x" matches "x").
      if (g.starts_with('/') && Match(g.substr(1), p)) return true;
      for (std::size_t i = 0; i <= p.size(); ++i) {
        if (Match(g, p.substr(i))) return true;
      }
      return false;
    }
    switch (g.front()) {
      case '*': {
        g.remove_prefix(1);
        for (std::size_t i = 0; i <= p.size(); ++i) {
          if (Match(g, p.substr(i))) return true;
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
        if (p.empty() || !ClassMatch(g, p.front(), len)) return false;
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

// filepath.Clean of a '/'-separated pattern, without the leading '/' (paths are relative to
// the context): no "." or empty elements, ".." resolved where it can be.
std::string Clean(std::string_view pattern) {
  std::string out = std::filesystem::path(pattern).lexically_normal().generic_string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (out.starts_with('/')) out.erase(0, 1);
  return out.empty() ? "." : out;
}

}  // namespace

bool GlobMatch(std::string_view glob, std::string_view path) { return Match(glob, path); }

ContextIgnore ContextIgnore::Parse(std::string_view text, std::string file) {
  ContextIgnore out;
  out.file_ = std::move(file);
  for (std::string_view line : SplitLines(text)) {
    if (line.starts_with('#')) continue;
    line = Trim(line);
    if (line.empty()) continue;
    Pattern p;
    if (line.front() == '!') {
      p.exception = true;
      line = Trim(line.substr(1));
      if (line.empty()) continue;
    }
    p.glob = Clean(line);
    out.has_exceptions_ = out.has_exceptions_ || p.exception;
    out.patterns_.push_back(std::move(p));
  }
  return out;
}

Expected<ContextIgnore> ContextIgnore::Load(const std::filesystem::path& dir) {
  for (const char* name : {".containerignore", ".dockerignore"}) {
    std::error_code ec;
    if (!std::filesystem::exists(dir / name, ec)) continue;
    auto text = ReadFile(dir / name, 1u << 20);
    if (!text) return std::unexpected(text.error());
    return Parse(*text, name);
  }
  return ContextIgnore{};
}

bool ContextIgnore::Excluded(std::string_view rel) const {
  bool excluded = false;
  for (const auto& p : patterns_) {
    // An exclusion only matters while the path is included, an exception while it is not.
    if (p.exception != excluded) continue;
    bool match = Match(p.glob, rel);
    // ...or one of its parent directories matches.
    for (std::size_t slash = rel.find('/'); !match && slash != std::string_view::npos;
         slash = rel.find('/', slash + 1)) {
      match = Match(p.glob, rel.substr(0, slash));
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
