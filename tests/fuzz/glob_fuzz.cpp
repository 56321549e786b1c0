// libFuzzer target over the ignore-file language (util/context_ignore.hpp): Glob's one-pass
// automaton against a plain backtracking matcher of the same rules (short inputs, no classes),
// escaped text matching itself, and ContextIgnore's rules (a kept path is never left out; a
// directory skipped whole leaves out everything below it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/context_ignore.hpp"

namespace {

void Check(bool ok, const char* what, std::string_view a = {}, std::string_view b = {}) {
  if (!ok) {
    std::fprintf(stderr, "property broken: %s [%.*s] [%.*s]\n", what, static_cast<int>(a.size()), a.data(),
                 static_cast<int>(b.size()), b.data());
    std::abort();
  }
}

// The rules as the header states them, tokenised as Glob does, matched by backtracking.
struct Token {
  enum Kind { kChar, kAny, kStar, kAnyPath } kind;
  char c = 0;
  bool may_skip = false;
};

std::vector<Token> Tokens(std::string_view g) {
  std::vector<Token> out;
  for (std::size_t i = 0; i < g.size();) {
    if (g.substr(i).starts_with("**")) {
      i += 2;
      out.push_back({Token::kAnyPath, 0, i < g.size() && g[i] == '/'});
    } else if (g[i] == '*') {
      out.push_back({Token::kStar});
      ++i;
    } else if (g[i] == '?') {
      out.push_back({Token::kAny});
      ++i;
    } else {
      if (g[i] == '\\' && i + 1 < g.size()) ++i;
      out.push_back({Token::kChar, g[i++]});
    }
  }
  return out;
}

struct Reference {
  const std::vector<Token>& t;
  std::string_view p;
  std::map<std::pair<std::size_t, std::size_t>, bool> memo;
  bool Match(std::size_t ti, std::size_t pi) {
    auto key = std::make_pair(ti, pi);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    bool r = false;
    if (ti == t.size()) {
      r = pi == p.size();
    } else {
      const Token& k = t[ti];
      switch (k.kind) {
        case Token::kChar: r = pi < p.size() && p[pi] == k.c && Match(ti + 1, pi + 1); break;
        case Token::kAny: r = pi < p.size() && p[pi] != '/' && Match(ti + 1, pi + 1); break;
        case Token::kStar:
          for (std::size_t k2 = pi; !r && k2 <= p.size(); ++k2) {
            r = Match(ti + 1, k2);
            if (k2 < p.size() && p[k2] == '/') break;
          }
          break;
        case Token::kAnyPath:
          if (k.may_skip) r = Match(ti + 2, pi);  // "**/" standing for no directory
          for (std::size_t k2 = pi; !r && k2 <= p.size(); ++k2) r = Match(ti + 1, k2);
          break;
      }
    }
    memo[key] = r;
    return r;
  }
};

std::string Escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void Differential(std::string_view in) {
  // Pattern and path over a small alphabet, so that matches are frequent.
  static constexpr char kAlphabet[] = {'a', 'b', '/', '*', '?', '\\', 'a', '.'};
  const auto nul = in.find('\0');
  std::string pattern, path;
  for (unsigned char c : in.substr(0, nul).substr(0, 24)) pattern.push_back(kAlphabet[c % 8]);
  if (nul != std::string_view::npos)
    for (unsigned char c : in.substr(nul + 1).substr(0, 48))
      path.push_back(kAlphabet[c % 8] == '*' ? 'b' : kAlphabet[c % 8]);
  const auto tokens = Tokens(pattern);
  Reference ref{tokens, path, {}};
  Check(podcd::Glob(pattern).Matches(path) == ref.Match(0, 0), "the automaton agrees with backtracking",
        pattern, path);
}

void Escapes(std::string_view in) {
  const std::string text(in.substr(0, 256));
  Check(podcd::Glob(Escaped(text)).Matches(text), "escaped text matches itself", text);
  Check(podcd::Glob("**").Matches(text), "** matches everything", text);
  const bool slashless = text.find('/') == std::string::npos;
  Check(podcd::Glob("*").Matches(text) == slashless, "* matches exactly what has no /", text);
}

void Rules(std::string_view in) {
  const auto nul = in.find('\0');
  const auto rules = podcd::ContextIgnore::Parse(in.substr(0, nul));
  if (nul == std::string_view::npos) return;
  std::string_view rest = in.substr(nul + 1);
  for (int n = 0; n < 8 && !rest.empty(); ++n) {
    const auto next = rest.find('\0');
    const std::string rel(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    const bool out = rules.Excluded(rel);
    Check(rules.LeavesOut(rel, {}) == (out && !rules.Empty()), "LeavesOut is Excluded", rel);
    Check(!rules.LeavesOut(rel, {rel}), "a kept path is never left out", rel);
    if (out && rules.SkipsWhole(rel, {})) {
      for (const char* below : {"x", "a/b", ".", "x/y/z"})
        Check(rules.Excluded(rel + "/" + below), "a directory skipped whole leaves out what is below", rel);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: Differential(in); break;
    case 1: Escapes(in); break;
    case 2: Rules(in.substr(0, 16384)); break;
  }
  return 0;
}
