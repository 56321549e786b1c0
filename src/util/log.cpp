#include "util/log.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>

#include "util/guarded.hpp"
#include "util/json.hpp"
#include "util/json_text.hpp"

namespace podcd::log {
namespace {

struct State {
  Format format = Format::kText;
  Level level = Level::kInfo;
  Sink sink;
  std::vector<std::string> secrets;
};

Guarded<State>& Global() {
  static Guarded<State> state;
  return state;
}

// Longest first: a secret that contains another is masked whole, not around the shorter one.
void Mask(std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) MaskSecret(text, s);
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

std::string_view ToString(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

bool ParseLevel(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::kDebug;
  else if (text == "info")
    out = Level::kInfo;
  else if (text == "warn" || text == "warning")
    out = Level::kWarn;
  else if (text == "error")
    out = Level::kError;
  else
    return false;
  return true;
}

bool ParseFormat(std::string_view text, Format& out) {
  if (text == "text")
    out = Format::kText;
  else if (text == "json")
    out = Format::kJson;
  else
    return false;
  return true;
}

void Configure(Format format, Level level) {
  auto s = Global().Lock();
  s->format = format;
  s->level = level;
}

Sink SetSink(Sink sink) {
  auto s = Global().Lock();
  return std::exchange(s->sink, std::move(sink));
}

void AddSecret(std::string secret) {
  if (secret.empty()) return;
  // A JSON line carries the secret's ill-formed bytes repaired (U+FFFD): mask that form too.
  if (!json::IsValidUtf8(secret)) AddSecret(json::ValidUtf8(secret));
  auto s = Global().Lock();
  auto& list = s->secrets;
  auto at =
      std::lower_bound(list.begin(), list.end(), secret, [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
      });
  if (at != list.end() && *at == secret) return;
  list.insert(at, std::move(secret));
}

std::vector<std::string> Secrets() { return Global().Lock()->secrets; }

std::string Masked(std::string text) {
  MaskSecrets(text);
  return text;
}

void ClearSecretsForTest() { Global().Lock()->secrets.clear(); }

void MaskSecret(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
}

void MaskSecrets(std::string& text) {
  auto s = Global().Lock();
  Mask(text, s->secrets);
}

namespace {

struct Userinfo {
  std::size_t begin = 0, end = 0;  // text[begin, end) is the userinfo, without its '@'
  bool http = false;
};

std::optional<Userinfo> FindUserinfo(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::size_t begin = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", begin), url.size());
  const std::size_t at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at == std::string_view::npos || at < begin) return std::nullopt;
  std::string scheme(url.substr(0, scheme_end));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Userinfo{begin, at, scheme == "http" || scheme == "https"};
}

std::string PercentDecoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

std::string RedactUserinfo(std::string_view url) {
  auto u = FindUserinfo(url);
  if (!u) return std::string(url);
  const std::string_view info = url.substr(u->begin, u->end - u->begin);
  const auto colon = info.find(':');
  if (!u->http && colon == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, u->begin));
  if (!u->http) out += std::string(info.substr(0, colon)) + ":";
  out += "***";
  out += url.substr(u->end);
  return out;
}

std::vector<std::string> UrlSecrets(std::string_view url) {
  std::vector<std::string> out;
  auto u = FindUserinfo(url);
  if (!u) return out;
  const std::string_view info = url.substr(u->begin, u->end - u->begin);
  const auto colon = info.find(':');
  auto add = [&](std::string_view v) {
    if (v.empty()) return;
    out.emplace_back(v);
    if (auto d = PercentDecoded(v); d != v) out.push_back(std::move(d));
  };
  if (colon != std::string_view::npos)
    add(info.substr(colon + 1));
  else if (u->http)
    add(info);  // a token given as the user name
  return out;
}

bool Enabled(Level level) { return level >= Global().Lock()->level; }

void Write(Level level, std::string_view msg, Fields fields) {
  auto now = std::chrono::system_clock::now();
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(fields.size());
  for (const auto& f : fields) kv.emplace_back(std::string(f.key), f.value);
  auto s = Global().Lock();
  if (level < s->level) return;
  // Masked before they are escaped: a secret holding '"' or '\' is written escaped, so a mask
  // of the finished line would not find it.
  std::string text(msg);
  Mask(text, s->secrets);
  for (auto& [k, v] : kv) Mask(v, s->secrets);
  std::string line = FormatLine(s->format, level, now, text, kv);
  if (s->sink) {
    s->sink(level, line);
  } else {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

std::string Rfc3339(std::chrono::system_clock::time_point ts) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(ts);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ts - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

namespace {

// RapidJSON's writer lays out the object; each string goes in as the project's escaper writes
// it (json::Text: \u0008 and lowercase hex where RapidJSON writes \b and uppercase), so the
// line's bytes are those it has always had.
std::string JsonLine(Level level, std::chrono::system_clock::time_point ts, std::string_view msg,
                     const std::vector<std::pair<std::string, std::string>>& fields) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("ts");
  json::Text(w, Rfc3339(ts));
  w.Key("level");
  json::Text(w, ToString(level));
  w.Key("msg");
  json::Text(w, msg);
  for (const auto& [k, v] : fields) {
    if (k == "ts" || k == "level" || k == "msg") continue;  // reserved keys win
    json::Text(w, k);  // a key: RapidJSON's Key() would escape it its own way
    json::Text(w, v);
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace

std::string FormatLine(Format format, Level level, std::chrono::system_clock::time_point ts,
                       std::string_view msg, const std::vector<std::pair<std::string, std::string>>& fields) {
  if (format == Format::kJson) return JsonLine(level, ts, msg, fields);
  std::string out;
  out += Rfc3339(ts);
  out += ' ';
  std::string lvl(ToString(level));
  for (auto& c : lvl) c = static_cast<char>(c - 'a' + 'A');
  out += lvl;
  out.append(6 - lvl.size(), ' ');
  for (char c : msg) out.push_back(c == '\n' ? ' ' : c);
  for (const auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    if (NeedsQuoting(v)) {
      out += '"';
      json::AppendEscaped(out, v);
      out += '"';
    } else {
      out += v;
    }
  }
  return out;
}

}  // namespace podcd::log
