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

// The index of the '}' that closes a "${" whose argument begins at text[j]; nested ${...}
// inside the argument are counted. text.size() when there is none.
std::size_t ClosingBrace(std::string_view text, std::size_t j) {
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
  return j;
}

Error TooLong(std::size_t max_bytes, std::size_t offset) {
  return Bad("the value expands to more than " + std::to_string(max_bytes) +
                 " bytes once variables are substituted, podcd's limit",
             offset);
}

class Interpolator {
 public:
  Interpolator(const Lookup& lookup, InterpolateResult& out, std::size_t max_bytes)
      : lookup_(lookup), out_(out), max_bytes_(max_bytes) {}

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
          if (!Fits(dst, *v)) return std::unexpected(TooLong(max_bytes_, base + i));
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
        if (!Fits(dst, *v)) return std::unexpected(TooLong(max_bytes_, pos));
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
    std::size_t arg_begin = j;
    j = ClosingBrace(text, j);
    if (j >= text.size()) return std::unexpected(Bad("unterminated \"${" + name + "\": missing \"}\"", pos));
    std::string_view arg = text.substr(arg_begin, j - arg_begin);
    auto r = Operator(op, colon, name, arg, base + arg_begin, pos, depth, dst);
    if (!r) return std::unexpected(r.error());
    return j + 1;
  }

  // ${name<op>arg} (`colon`: ${name:<op>arg}), found at `pos`; `arg_base` is the offset of
  // `arg` in the original string.
  Expected<void> Operator(char op, bool colon, const std::string& name, std::string_view arg,
                          std::size_t arg_base, std::size_t pos, int depth, std::string& dst) {
    auto v = lookup_(name);
    bool set = v.has_value();
    bool set_non_empty = set && !v->empty();
    bool present = colon ? set_non_empty : set;
    if (present && op != '+' && !Fits(dst, *v)) return std::unexpected(TooLong(max_bytes_, pos));
    switch (op) {
      case '-':
        if (present) {
          dst += *v;
        } else {
          auto r = Run(arg, arg_base, depth + 1, dst);
          if (!r) return std::unexpected(r.error());
        }
        break;
      case '+':
        if (present) {
          auto r = Run(arg, arg_base, depth + 1, dst);
          if (!r) return std::unexpected(r.error());
        }
        break;
      case '?':
        if (present) {
          dst += *v;
        } else {
          std::string msg;
          auto r = Run(arg, arg_base, depth + 1, msg);
          if (!r) return std::unexpected(r.error());
          std::string text_msg = "required variable " + name + " is " +
                                 (set ? std::string("empty") : std::string("missing a value"));
          if (!msg.empty()) text_msg += ": " + msg;
          return std::unexpected(Bad(text_msg, pos));
        }
        break;
      default: break;
    }
    return {};
  }

  // Whether `more` may be appended: a value that expands a thousandfold at each of a few
  // levels is refused before it is built.
  bool Fits(const std::string& dst, const std::string& more) const {
    return more.size() <= max_bytes_ && dst.size() <= max_bytes_ - more.size();
  }

  const Lookup& lookup_;
  InterpolateResult& out_;
  std::size_t max_bytes_;
};

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// KEY of an env file's KEY=VALUE: a variable name that may also hold '.' and '-'.
bool IsEnvKey(std::string_view k) {
  if (k.empty() || !IsNameStart(k.front())) return false;
  for (char c : k) {
    if (!IsNameChar(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// The character(s) a "double-quoted" value holds for the escape "\e".
void AppendEscape(char e, std::string& raw) {
  switch (e) {
    case 'n': raw += '\n'; break;
    case 't': raw += '\t'; break;
    case 'r': raw += '\r'; break;
    case '\\': raw += '\\'; break;
    case '"': raw += '"'; break;
    case '$': raw += "$$"; break;  // kept literal through interpolation
    default: raw += '\\'; raw += e;
  }
}

// The text of a quoted value whose quote is text[open], escapes resolved for double quotes.
// `close` is set to the index of the closing quote (npos when there is none); `line_no`
// counts the line breaks passed.
std::string ScanQuoted(std::string_view text, std::size_t open, std::size_t& close, std::size_t& line_no) {
  const char q = text[open];
  std::size_t j = open + 1;
  std::string raw;
  close = std::string_view::npos;
  while (j < text.size()) {
    char c = text[j];
    if (c == '\n') ++line_no;
    if (q == '"' && c == '\\' && j + 1 < text.size()) {
      char e = text[j + 1];
      AppendEscape(e, raw);
      if (e == '\n') ++line_no;
      j += 2;
      continue;
    }
    if (c == q) {
      close = j;
      break;
    }
    raw += c;
    ++j;
  }
  return raw;
}

// ParseEnvFile: the entries so far (visible to later values), where the next line begins.
class EnvFileParser {
 public:
  EnvFileParser(std::string_view text, std::string_view file, const Lookup& lookup, std::size_t* budget)
      : text_(text),
        file_(file),
        lookup_(lookup),
        budget_(budget),
        local_(ChainLookup(
            [this](std::string_view name) -> std::optional<std::string> {
              auto it = seen_.find(std::string(name));
              if (it == seen_.end()) return std::nullopt;
              return it->second;
            },
            lookup)) {}
  EnvFileParser(const EnvFileParser&) = delete;
  EnvFileParser& operator=(const EnvFileParser&) = delete;

  Expected<EnvEntries> Parse() {
    if (text_.find('\0') != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "contains a NUL byte", std::string(file_));
    }
    while (pos_ < text_.size()) {
      std::size_t eol = text_.find('\n', pos_);
      if (eol == std::string_view::npos) eol = text_.size();
      ++line_no_;
      std::string_view line = TrimView(text_.substr(pos_, eol - pos_));
      if (line.empty() || line.front() == '#') {
        pos_ = eol + 1;
        continue;
      }
      auto next = Entry(line, eol);
      if (!next) return std::unexpected(next.error());
      pos_ = *next;
    }
    return std::move(entries_);
  }

 private:
  struct Value {
    std::string text;
    std::size_t next;  // where the line after the value begins
  };

  // The entry on `line` (which ends at text_[eol]); returns where the next line begins.
  Expected<std::size_t> Entry(std::string_view line, std::size_t eol) {
    const std::size_t start_line = line_no_;
    if (line.starts_with("export ") || line.starts_with("export\t")) line = TrimView(line.substr(7));
    std::size_t eq = line.find('=');
    std::string key(TrimView(line.substr(0, eq)));
    // Never quoted: the line of an env file, the secrets directory's above all, may be a value
    // (a PEM line has no '=', a base64 one may have one).
    if (!IsEnvKey(key)) {
      return Fail(ErrorCode::kInvalidArgument,
                  eq == std::string_view::npos ? "not KEY=VALUE"
                                               : "invalid variable name before '=' (expected KEY=VALUE)",
                  Where(start_line));
    }
    if (eq == std::string_view::npos) {
      auto v = lookup_ ? lookup_(key) : std::nullopt;
      if (v) {
        seen_[key] = *v;
        entries_.emplace_back(key, *v);
      }
      return eol + 1;
    }
    // The value may continue past this line when quoted: work on the rest of the text.
    std::size_t value_start = static_cast<std::size_t>(line.data() - text_.data()) + eq + 1;
    while (value_start < text_.size() && (text_[value_start] == ' ' || text_[value_start] == '\t'))
      ++value_start;
    char q = value_start < text_.size() ? text_[value_start] : '\0';
    auto value =
        (q == '\'' || q == '"') ? Quoted(value_start, key, start_line) : Plain(value_start, eol, start_line);
    if (!value) return std::unexpected(value.error());
    if (budget_ != nullptr) {
      if (value->text.size() > *budget_) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the stack's variables and values expand to more than " +
                        std::to_string(kMaxStackValueBytes >> 20) + " MiB, podcd's limit (at " + key + ")",
                    Where(start_line));
      }
      *budget_ -= value->text.size();
    }
    seen_[key] = value->text;
    entries_.emplace_back(key, value->text);
    return value->next;
  }

  Expected<Value> Quoted(std::size_t open, const std::string& key, std::size_t start_line) {
    std::size_t close = 0;
    std::string raw = ScanQuoted(text_, open, close, line_no_);
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "unterminated quoted value for " + key, Where(start_line));
    }
    // Only a comment may follow the closing quote.
    std::size_t k = close + 1;
    std::size_t end = text_.find('\n', k);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view rest = TrimView(text_.substr(k, end - k));
    if (!rest.empty() && rest.front() != '#') {
      return Fail(ErrorCode::kInvalidArgument, "unexpected text after the quoted value of " + key,
                  Where(line_no_));
    }
    if (text_[open] == '\'') return Value{raw, end + 1};
    auto r = Interpolate(raw, local_);
    if (!r) return std::unexpected(Unquoted(r.error(), start_line));
    return Value{r->value, end + 1};
  }

  Expected<Value> Plain(std::size_t value_start, std::size_t eol, std::size_t start_line) {
    std::string_view raw = text_.substr(value_start, eol - value_start);
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '#' && (k == 0 || raw[k - 1] == ' ' || raw[k - 1] == '\t')) {
        raw = raw.substr(0, k);
        break;
      }
    }
    raw = TrimView(raw);
    auto r = Interpolate(raw, local_);
    if (!r) return std::unexpected(Unquoted(r.error(), start_line));
    return Value{r->value, eol + 1};
  }

  std::string Where(std::size_t line) const { return std::string(file_) + ":" + std::to_string(line); }

  // An interpolation error of a value on `line`: the text of a ${VAR:?text} is left out, as it
  // may hold other values of the file; names and offsets stay.
  Error Unquoted(const Error& e, std::size_t line) const {
    std::string message = e.message;
    if (message.starts_with("required variable ")) {
      if (auto colon = message.find(": "); colon != std::string::npos) message.resize(colon);
    }
    return Error{e.code, std::move(message), Where(line)};
  }

  std::string_view text_;
  std::string_view file_;
  const Lookup& lookup_;
  std::size_t* budget_;  // what the values may still add up to; null: no bound but each value's
  std::map<std::string, std::string> seen_;
  EnvEntries entries_;
  Lookup local_;
  std::size_t pos_ = 0;
  std::size_t line_no_ = 0;
};

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

Expected<InterpolateResult> Interpolate(std::string_view text, const Lookup& lookup, std::size_t max_bytes) {
  InterpolateResult out;
  out.value.reserve(text.size());
  Interpolator in(lookup, out, max_bytes);
  auto r = in.Run(text, 0, 0, out.value);
  if (!r) return std::unexpected(r.error());
  if (out.value.size() > max_bytes) return std::unexpected(TooLong(max_bytes, 0));  // literal text alone
  return out;
}

Expected<EnvEntries> ParseEnvFile(std::string_view text, std::string_view file, const Lookup& lookup,
                                  std::size_t* budget) {
  EnvFileParser parser(text, file, lookup, budget);
  return parser.Parse();
}

std::map<std::string, std::string> ToMap(const EnvEntries& entries) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : entries) out[k] = v;
  return out;
}

}  // namespace podcd::compose
