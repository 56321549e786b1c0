#include "compose/loader_internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "util/strings.hpp"

namespace podcd::compose {

// Parses a Go duration ("1m30s", "1.5s", "250ms", "10us", "5ns"); a bare integer is seconds.
std::optional<core::Nanos> ParseGoDuration(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 9) return std::nullopt;
    return core::Nanos(std::stoll(std::string(s)) * 1'000'000'000LL);
  }
  long double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
    if (j == i || j - i > 18) return std::nullopt;
    std::string num(s.substr(i, j - i));
    if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
    long double v = std::strtold(num.c_str(), nullptr);
    std::size_t k = j;
    while (k < s.size() && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == 'A' || s[k] == 'u')) ++k;
    std::string_view unit = s.substr(j, k - j);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return std::nullopt;
    total += v * mult;
    if (total > 9e18L) return std::nullopt;
    i = k;
  }
  return core::Nanos(static_cast<std::int64_t>(std::llround(total)));
}

// "512m", "1g", "1.5gb", "1024" (bytes), binary multiples; -1 allowed when `allow_minus_one`.
std::optional<std::int64_t> ParseSize(std::string_view s, bool allow_minus_one) {
  s = Trim(s);
  if (allow_minus_one && s == "-1") return -1;
  std::size_t j = 0;
  while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
  if (j == 0 || j > 18) return std::nullopt;
  std::string num(s.substr(0, j));
  if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
  long double v = std::strtold(num.c_str(), nullptr);
  std::string unit;
  for (char c : s.substr(j)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  long double mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1024.0L;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1024.0L * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1024.0L * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib")
    mult = 1024.0L * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  long double total = v * mult;
  if (total > 9e18L) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(total));
}

std::optional<std::uint16_t> ParsePort(std::string_view s) {
  auto v = ParseInt(s);
  if (!v || *v < 1 || *v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

std::optional<core::PortRange> ParsePortRange(std::string_view s) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) {
    auto p = ParsePort(s);
    if (!p) return std::nullopt;
    return core::PortRange{*p, *p};
  }
  auto a = ParsePort(s.substr(0, dash));
  auto b = ParsePort(s.substr(dash + 1));
  if (!a || !b || *a > *b) return std::nullopt;
  return core::PortRange{*a, *b};
}

// ---------- scalars
std::optional<std::string> Loader::Str(const Node& n, const std::string& path) {
  if (!n.IsScalar()) {
    TypeErr(n, path, "a string");
    return std::nullopt;
  }
  const SourceFile* source = SourceOf(n.mark);
  auto r = Interpolate(n.scalar, source != nullptr && source->vars ? *source->vars : vars_);
  if (!r) {
    Err(n, path, r.error().message + " (" + r.error().context + " of the value)");
    return std::nullopt;
  }
  if (!Spend(n, path, r->value.size())) return std::nullopt;
  for (const auto& u : r->unset) {
    out_.warnings.push_back("variable " + u + " is not set; substituted an empty string (" + path +
                            ")");  // NOLINT(performance-inefficient-string-concatenation): a warning path
  }
  return std::move(r->value);
}

// Every value read counts, not only interpolated ones: an alias stands for its value at each
// use, so a long scalar aliased many times is many copies.
bool Loader::Spend(const Node& n, const std::string& path, std::size_t bytes) {
  if (bytes <= value_budget_) {
    value_budget_ -= bytes;
    return true;
  }
  if (!value_budget_spent_) {
    Err(n, path,
        "the stack's values expand to more than " + std::to_string(kMaxStackValueBytes >> 20) +
            " MiB once variables and aliases are substituted, podcd's limit");
  }
  value_budget_spent_ = true;
  value_budget_ = 0;
  return false;
}

std::optional<bool> Loader::Bool(const Node& n, const std::string& path) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "TRUE" || *s == "yes") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE" || *s == "no") return false;
  Err(n, path, "must be true or false, got " + Quoted(*s));
  return std::nullopt;
}

std::optional<std::int64_t> Loader::Int(const Node& n, const std::string& path) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  auto v = ParseInt(Trim(*s));
  if (!v) Err(n, path, "must be an integer, got " + Quoted(*s));
  return v;
}

std::optional<core::Nanos> Loader::Duration(const Node& n, const std::string& path) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  auto v = ParseGoDuration(*s);
  if (!v) Err(n, path, "must be a duration such as 30s, 1m30s or 500ms, got " + Quoted(*s));
  return v;
}

std::optional<std::int64_t> Loader::Size(const Node& n, const std::string& path, bool allow_minus_one) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  auto v = ParseSize(*s, allow_minus_one);
  if (!v) Err(n, path, "must be a size such as 512m, 1g or a number of bytes, got " + Quoted(*s));
  return v;
}

std::optional<std::int64_t> Loader::NanoCpus(const Node& n, const std::string& path) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  std::string t(Trim(*s));
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v) || v < 0 || v > 1e6) {
    Err(n, path, "must be a number of CPUs such as 0.5 or 2, got " + Quoted(*s));
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(v * 1e9));
}

std::optional<std::uint32_t> Loader::Mode(const Node& n, const std::string& path) {
  auto s = Str(n, path);
  if (!s) return std::nullopt;
  std::string t(Trim(*s));
  // Compose modes are octal whether written 0440, 440 or 0o440.
  const int base = 8;
  if (t.starts_with("0o")) t = t.substr(2);
  char* end = nullptr;
  unsigned long v = std::strtoul(t.c_str(), &end, base);
  if (t.empty() || end != t.c_str() + t.size() || v > 07777) {
    Err(n, path, "must be a file mode such as 0440, got " + Quoted(*s));
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(v);
}

void Loader::SetStr(const Node& n, const std::string& path, std::string& dst) {
  if (auto s = Str(n, path)) dst = std::move(*s);
}

void Loader::SetBool(const Node& n, const std::string& path, bool& dst) {
  if (auto b = Bool(n, path)) dst = *b;
}

// A string or a list of strings.
std::vector<std::string> Loader::StrList(const Node& n, const std::string& path, bool allow_single) {
  std::vector<std::string> out;
  if (n.IsScalar() && allow_single) {
    if (auto s = Str(n, path)) out.push_back(*s);
    return out;
  }
  if (!n.IsSequence()) {
    TypeErr(n, path, allow_single ? "a string or a list of strings" : "a list of strings");
    return out;
  }
  for (std::size_t i = 0; i < n.items.size(); ++i) {
    if (auto s = Str(*n.items[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
  }
  return out;
}

// A mapping of strings, or a list of "KEY=VALUE"; `null_values` receives keys without value.
std::map<std::string, std::string> Loader::StrMap(const Node& n, const std::string& path,
                                                  std::vector<std::string>* null_values) {
  std::map<std::string, std::string> out;
  if (n.IsMap()) {
    for (const auto& e : n.entries) {
      std::string p = path + "." + e.key;
      if (e.value->IsNull()) {
        if (null_values) {
          null_values->push_back(e.key);
        } else {
          out[e.key] = "";
        }
        continue;
      }
      if (auto s = Str(*e.value, p)) out[e.key] = *s;
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      auto s = Str(*n.items[i], p);
      if (!s) continue;
      auto eq = s->find('=');
      if (eq == std::string::npos) {
        if (null_values) {
          null_values->push_back(*s);
        } else {
          Err(*n.items[i], p, "must be KEY=VALUE, got " + Quoted(*s));
        }
        continue;
      }
      if (eq == 0) {
        Err(*n.items[i], p, "must be KEY=VALUE, got " + Quoted(*s));
        continue;
      }
      out[s->substr(0, eq)] = s->substr(eq + 1);
    }
  } else if (!n.IsNull()) {
    TypeErr(n, path, "a mapping or a list of KEY=VALUE strings");
  }
  return out;
}

std::vector<std::string> Loader::SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::optional<std::vector<std::string>> Loader::Command(const Node& v, const std::string& p) {
  if (v.IsNull()) return std::vector<std::string>{};
  if (v.IsScalar()) {
    auto s = Str(v, p);
    if (!s) return std::nullopt;
    auto words = SplitCommand(*s);
    if (!words) {
      Err(v, p, words.error().message);
      return std::nullopt;
    }
    return *words;
  }
  if (!v.IsSequence()) {
    TypeErr(v, p, "a string or a list of strings");
    return std::nullopt;
  }
  return StrList(v, p, false);
}

Expected<std::vector<std::string>> SplitCommand(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos)
        return Fail(ErrorCode::kInvalidArgument, "unterminated single quote");
      cur += text.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\' || text[j + 1] == '$' || text[j + 1] == '`')) {
          ++j;
        }
        cur += text[j];
      }
      if (j >= text.size()) return Fail(ErrorCode::kInvalidArgument, "unterminated double quote");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < text.size()) cur += text[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

}  // namespace podcd::compose
