#include "compose/interpolate.hpp"

#include <cstddef>

namespace podcd::compose {
namespace {

constexpr int kMaxNesting = 32;

bool IsNameStart(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

Error Bad(std::string message, std::size_t offset) {
  return Error{ErrorCode::kInvalidArgument, std::move(message), "offset " + std::to_string(offset + 1)};
}

class Interpolator {
 public:
  Interpolator(const Lookup& lookup, InterpolateResult& out) : lookup_(lookup), out_(out) {}

  // Interpolates text[0..) into `dst`; `base` is the offset of `text` in the original string.
  Expected<void> Run(std::string_view text, std::size_t base, int depth, std::string& dst) {
    if (depth > kMaxNesting) return std::unexpected(Bad("variables nested too deeply", base));
    std::size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (c != '$') {
        dst += c;
        ++i;
        continue;
      }
      if (i + 1 >= text.size()) {  // trailing '$' is literal
        dst += '$';
        ++i;
        continue;
      }
      char n = text[i + 1];
      if (n == '$') {
        dst += '$';
        i += 2;
        continue;
      }
      if (IsNameStart(n)) {
        std::size_t j = i + 1;
        while (j < text.size() && IsNameChar(text[j])) ++j;
        std::string name(text.substr(i + 1, j - i - 1));
        auto v = lookup_(name);
        if (v) {
          dst += *v;
        } else {
          out_.unset.push_back(name);
        }
        i = j;
        continue;
      }
      if (n != '{') {  // "$(", "$ ", "$1": literal, no shell ever
        dst += '$';
        ++i;
        continue;
      }
      auto r = Braced(text, i, base, depth, dst);
      if (!r) return std::unexpected(r.error());
      i = *r;
    }
    return {};
  }

 private:
  // text[at] == '$', text[at+1] == '{'. Returns the index after the closing brace.
  Expected<std::size_t> Braced(std::string_view text, std::size_t at, std::size_t base, int depth,
                               std::string& dst) {
    std::size_t pos = base + at;
    std::size_t j = at + 2;
    std::size_t name_begin = j;
    if (j >= text.size() || !IsNameStart(text[j])) {
      return std::unexpected(Bad("invalid variable reference: a name must follow \"${\"", pos));
    }
    while (j < text.size() && IsNameChar(text[j])) ++j;
    std::string name(text.substr(name_begin, j - name_begin));
    if (j >= text.size()) return std::unexpected(Bad("unterminated \"${" + name + "\": missing \"}\"", pos));
    if (text[j] == '}') {
      auto v = lookup_(name);
      if (v) {
        dst += *v;
      } else {
        out_.unset.push_back(name);
      }
      return j + 1;
    }
    bool colon = false;
    if (text[j] == ':') {
      colon = true;
      ++j;
      if (j >= text.size()) return std::unexpected(Bad("unterminated \"${" + name + ":\"", pos));
    }
    char op = text[j];
    if (op != '-' && op != '?' && op != '+') {
      return std::unexpected(
          Bad("invalid operator in \"${" + name + "\": expected one of :- - :? ? :+ +", pos));
    }
    ++j;
    // Find the matching brace; nested ${...} inside the argument are counted.
    std::size_t arg_begin = j;
    int open = 1;
    while (j < text.size()) {
      if (text[j] == '$' && j + 1 < text.size() && text[j + 1] == '$') {
        j += 2;
        continue;
      }
      if (text[j] == '$' && j + 1 < text.size() && text[j + 1] == '{') {
        ++open;
        j += 2;
        continue;
      }
      if (text[j] == '}') {
        if (--open == 0) break;
      }
      ++j;
    }
    if (j >= text.size()) return std::unexpected(Bad("unterminated \"${" + name + "\": missing \"}\"", pos));
    std::string_view arg = text.substr(arg_begin, j - arg_begin);
    std::size_t after = j + 1;
    auto v = lookup_(name);
    bool set = v.has_value();
    bool set_non_empty = set && !v->empty();
    bool present = colon ? set_non_empty : set;
    switch (op) {
      case '-':
        if (present) {
          dst += *v;
        } else {
          auto r = Run(arg, base + arg_begin, depth + 1, dst);
          if (!r) return std::unexpected(r.error());
        }
        break;
      case '+':
        if (present) {
          auto r = Run(arg, base + arg_begin, depth + 1, dst);
          if (!r) return std::unexpected(r.error());
        }
        break;
      case '?':
        if (present) {
          dst += *v;
        } else {
          std::string msg;
          auto r = Run(arg, base + arg_begin, depth + 1, msg);
          if (!r) return std::unexpected(r.error());
          std::string text_msg = "required variable " + name + " is " +
                                 (set ? std::string("empty") : std::string("missing a value"));
          if (!msg.empty()) text_msg += ": " + msg;
          return std::unexpected(Bad(text_msg, pos));
        }
        break;
      default: break;
    }
    return after;
  }

  const Lookup& lookup_;
  InterpolateResult& out_;
};

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Lookup MapLookup(const std::map<std::string, std::string>& vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Lookup ChainLookup(Lookup first, Lookup second) {
  return [first = std::move(first), second = std::move(second)](std::string_view name) {
    std::optional<std::string> v;
    if (first) v = first(name);
    if (!v && second) v = second(name);
    return v;
  };
}

bool IsValidVariableName(std::string_view name) {
  if (name.empty() || !IsNameStart(name.front())) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

Expected<InterpolateResult> Interpolate(std::string_view text, const Lookup& lookup) {
  InterpolateResult out;
  out.value.reserve(text.size());
  Interpolator in(lookup, out);
  auto r = in.Run(text, 0, 0, out.value);
  if (!r) return std::unexpected(r.error());
  return out;
}

Expected<EnvEntries> ParseEnvFile(std::string_view text, std::string_view file, const Lookup& lookup) {
  EnvEntries entries;
  std::map<std::string, std::string> seen;
  Lookup local = ChainLookup(
      [&seen](std::string_view name) -> std::optional<std::string> {
        auto it = seen.find(std::string(name));
        if (it == seen.end()) return std::nullopt;
        return it->second;
      },
      lookup);
  std::size_t pos = 0;
  std::size_t line_no = 0;
  auto where = [&](std::size_t line) { return std::string(file) + ":" + std::to_string(line); };
  if (text.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "contains a NUL byte", std::string(file));
  }
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    ++line_no;
    std::size_t start_line = line_no;
    std::string_view line = TrimView(text.substr(pos, eol - pos));
    std::size_t next = eol + 1;
    if (line.empty() || line.front() == '#') {
      pos = next;
      continue;
    }
    if (line.starts_with("export ") || line.starts_with("export\t")) line = TrimView(line.substr(7));
    std::size_t eq = line.find('=');
    std::string key(TrimView(line.substr(0, eq)));
    auto valid_key = [](std::string_view k) {
      if (k.empty() || !IsNameStart(k.front())) return false;
      for (char c : k) {
        if (!IsNameChar(c) && c != '.' && c != '-') return false;
      }
      return true;
    };
    if (!valid_key(key)) {
      return Fail(ErrorCode::kInvalidArgument, "invalid variable name \"" + key + "\" (expected KEY=VALUE)",
                  where(start_line));
    }
    if (eq == std::string_view::npos) {
      auto v = lookup ? lookup(key) : std::nullopt;
      if (v) {
        seen[key] = *v;
        entries.emplace_back(key, *v);
      }
      pos = next;
      continue;
    }
    // The value may continue past this line when quoted: work on the rest of the text.
    std::size_t value_start = static_cast<std::size_t>(line.data() - text.data()) + eq + 1;
    while (value_start < text.size() && (text[value_start] == ' ' || text[value_start] == '\t'))
      ++value_start;
    std::string value;
    char q = value_start < text.size() ? text[value_start] : '\0';
    if (q == '\'' || q == '"') {
      std::size_t j = value_start + 1;
      std::string raw;
      bool closed = false;
      while (j < text.size()) {
        char c = text[j];
        if (c == '\n') ++line_no;
        if (q == '"' && c == '\\' && j + 1 < text.size()) {
          char e = text[j + 1];
          switch (e) {
            case 'n': raw += '\n'; break;
            case 't': raw += '\t'; break;
            case 'r': raw += '\r'; break;
            case '\\': raw += '\\'; break;
            case '"': raw += '"'; break;
            case '$': raw += "$$"; break;  // kept literal through interpolation
            default: raw += '\\'; raw += e;
          }
          if (e == '\n') ++line_no;
          j += 2;
          continue;
        }
        if (c == q) {
          closed = true;
          break;
        }
        raw += c;
        ++j;
      }
      if (!closed) {
        return Fail(ErrorCode::kInvalidArgument, "unterminated quoted value for " + key, where(start_line));
      }
      // Only a comment may follow the closing quote.
      std::size_t k = j + 1;
      std::size_t end = text.find('\n', k);
      if (end == std::string_view::npos) end = text.size();
      std::string_view rest = TrimView(text.substr(k, end - k));
      if (!rest.empty() && rest.front() != '#') {
        return Fail(ErrorCode::kInvalidArgument, "unexpected text after the quoted value of " + key,
                    where(line_no));
      }
      next = end + 1;
      if (q == '\'') {
        value = raw;
      } else {
        auto r = Interpolate(raw, local);
        if (!r) return std::unexpected(Error{r.error().code, r.error().message, where(start_line)});
        value = r->value;
      }
    } else {
      std::string_view raw = text.substr(value_start, eol - value_start);
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '#' && (k == 0 || raw[k - 1] == ' ' || raw[k - 1] == '\t')) {
          raw = raw.substr(0, k);
          break;
        }
      }
      raw = TrimView(raw);
      auto r = Interpolate(raw, local);
      if (!r) return std::unexpected(Error{r.error().code, r.error().message, where(start_line)});
      value = r->value;
    }
    seen[key] = value;
    entries.emplace_back(key, value);
    pos = next;
  }
  return entries;
}

std::map<std::string, std::string> ToMap(const EnvEntries& entries) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : entries) out[k] = v;
  return out;
}

}  // namespace podcd::compose
