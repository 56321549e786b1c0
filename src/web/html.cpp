#include "web/html.hpp"

#include <ctime>

#include "util/json_text.hpp"

namespace podcd::web {

void AppendEscaped(std::string& out, std::string_view text) {
  const std::string repaired = json::IsValidUtf8(text) ? std::string() : json::ValidUtf8(text);
  const std::string_view valid = repaired.empty() ? text : std::string_view(repaired);
  out.reserve(out.size() + valid.size());
  for (char c : valid) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "&#xFFFD;"; break;
      default: out += c;
    }
  }
}

std::string Escape(std::string_view text) {
  std::string out;
  AppendEscaped(out, text);
  return out;
}

void AppendAttribute(std::string& out, std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    bare = bare && ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || c == '/' ||
                    c == '_' || c == '.' || c == ':' || c == '%' || c == '~' || c == '-');
  }
  out += '=';
  if (bare) {
    out += value;
    return;
  }
  out += '"';
  AppendEscaped(out, value);
  out += '"';
}

std::string UrlComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

namespace {
std::string Format(std::int64_t ms, const char* format) {
  const auto t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  return std::strftime(buf, sizeof buf, format, &tm) > 0 ? buf : "";
}
}  // namespace

std::string ExactTime(std::int64_t ms) { return ms <= 0 ? "" : Format(ms, "%Y-%m-%d %H:%M:%S UTC"); }

std::string RelativeTime(std::int64_t ms, std::int64_t now_ms) {
  const std::int64_t diff = now_ms - ms;
  const bool future = diff < 0;
  const std::int64_t s = (future ? -diff : diff) / 1000;
  if (s < 5) return "just now";
  std::string amount;
  if (s < 60)
    amount = std::to_string(s) + " s";
  else if (s < 3600)
    amount = std::to_string(s / 60) + " min";
  else if (s < 86400)
    amount = std::to_string(s / 3600) + " h";
  else
    amount = std::to_string(s / 86400) + " d";
  return future ? "in " + amount : amount + " ago";
}

std::string_view Tone(std::string_view word) {
  static constexpr std::pair<std::string_view, std::string_view> kTones[] = {{"in-sync", "ok"},
                                                                             {"succeeded", "ok"},
                                                                             {"updated", "ok"},
                                                                             {"unchanged", "ok"},
                                                                             {"created", "ok"},
                                                                             {"recreated", "ok"},
                                                                             {"healthy", "ok"},
                                                                             {"running", "ok"},
                                                                             {"accepted", "ok"},
                                                                             {"success", "ok"},
                                                                             {"ok", "ok"},
                                                                             {"changed", "warn"},
                                                                             {"drifted", "warn"},
                                                                             {"queued", "warn"},
                                                                             {"starting", "warn"},
                                                                             {"pinned", "warn"},
                                                                             {"failed", "bad"},
                                                                             {"invalid", "bad"},
                                                                             {"refused", "bad"},
                                                                             {"rolled-back", "bad"},
                                                                             {"unhealthy", "bad"},
                                                                             {"exited", "bad"},
                                                                             {"created-only", "bad"},
                                                                             {"rejected", "bad"},
                                                                             {"denied", "bad"},
                                                                             {"failure", "bad"},
                                                                             {"suspended", "off"},
                                                                             {"removed", "off"},
                                                                             {"superseded", "off"},
                                                                             {"skipped", "off"},
                                                                             {"create", "warn"},
                                                                             {"recreate", "warn"},
                                                                             {"remove", "warn"}};
  for (const auto& [w, tone] : kTones) {
    if (w == word) return tone;
  }
  return "off";
}

void AppendBadge(std::string& out, std::string_view word) {
  out += "<b class=";  // one word: no quotes needed (HTML5), and 500 stacks stay small
  out += Tone(word);
  out += ">";
  AppendEscaped(out, word.empty() ? "unknown" : word);
  out += "</b>";
}

std::string Badge(std::string_view word) {
  std::string out;
  AppendBadge(out, word);
  return out;
}

std::string TimeElement(std::int64_t ms, std::int64_t now_ms) {
  if (ms <= 0) return "never";
  // The exact time is the title (set by the script, which keeps the relative one fresh).
  // The datetime is digits, '-', ':', 'T' and 'Z': unquoted (500 rows of the front page).
  return "<time datetime=" + Format(ms, "%Y-%m-%dT%H:%M:%SZ") + ">" + RelativeTime(ms, now_ms) + "</time>";
}

}  // namespace podcd::web
