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

std::string TimeElement(std::int64_t ms, std::int64_t now_ms) {
  if (ms <= 0) return "never";
  // The exact time is the title (set by the script, which keeps the relative one fresh).
  return "<time datetime=\"" + Format(ms, "%Y-%m-%dT%H:%M:%SZ") + "\">" + RelativeTime(ms, now_ms) +
         "</time>";
}

}  // namespace podcd::web
