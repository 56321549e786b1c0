#include "notify/chat_formats.hpp"

#include <string>
#include <string_view>

#include "notify/text.hpp"
#include "util/json.hpp"

namespace podcd::notify {
namespace {

bool Urgent(What what) { return what == What::kFailed || what == What::kRolledBack; }

// The summary, and the link on a line of its own when there is one (every chat turns a bare
// URL into a link).
std::string Text(const Notice& n, std::size_t max = kSummaryMax) {
  std::string text = Summary(n, max);
  if (!n.link.empty()) text += "\n" + n.link;
  return text;
}

Outgoing Base(const Target& target, std::string url) {
  Outgoing out;
  out.target = target.name;
  out.url = std::move(url);
  return out;
}

std::string TrimSlash(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

// The URL's path, without scheme, authority, query and fragment ("" when there is none).
std::string_view PathOf(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (start == std::string_view::npos) return {};
  std::string_view path = url.substr(start);
  return path.substr(0, path.find_first_of("?#"));
}

template <typename Fill>
std::string JsonObject(Fill fill) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  fill(w);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// ntfy's tags that are emoji short codes show as the emoji before the title
// (https://docs.ntfy.sh/publish/#tags-emojis).
std::string_view NtfyTag(What what) {
  switch (what) {
    case What::kStarted: return "rocket";
    case What::kSucceeded: return "white_check_mark";
    case What::kFailed: return "x";
    case What::kRolledBack: return "leftwards_arrow_with_hook";
    case What::kRefused: return "no_entry";
    case What::kRecovered: return "heavy_check_mark";
  }
  return "bell";
}

// Slack reads `&`, `<` and `>` as its control sequences (<!channel>, <url|text>): a reason that
// held "<!channel>" would page a whole channel. Escaped as Slack's formatting reference asks
// (https://api.slack.com/reference/surfaces/formatting#escaping).
std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

// ntfy: POST to the topic URL, the message as a text body, the rest as headers: Title, Priority
// (high for a failure, default otherwise), Tags, Click, and an access token as a bearer
// (https://docs.ntfy.sh/publish/ : "Message title", "Message priority", "Tags & emojis",
// "Click action", "Access tokens").
Outgoing Ntfy(const Target& target, const Notice& n) {
  Outgoing out = Base(target, target.url);
  out.body = Summary(n);
  out.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  out.headers.emplace_back("Title", Title(n));
  out.headers.emplace_back("Priority", Urgent(n.what) ? "high" : "default");
  out.headers.emplace_back("Tags", std::string(NtfyTag(n.what)));
  if (!n.link.empty()) out.headers.emplace_back("Click", HeaderValue(n.link, 2048));
  if (!target.secret.empty()) out.headers.emplace_back("Authorization", "Bearer " + target.secret);
  return out;
}

// Slack incoming webhook: {"text": ...} to the hook's URL
// (https://api.slack.com/messaging/webhooks). Mattermost and Rocket.Chat incoming webhooks take
// the same body.
Outgoing Slack(const Target& target, const Notice& n) {
  Outgoing out = Base(target, target.url);
  out.headers.emplace_back("Content-Type", "application/json");
  out.body = JsonObject([&](json::Writer& w) { json::Str(w, "text", SlackEscape(Text(n))); });
  return out;
}

// Discord webhook: {"content": ...}, at most 2000 characters; allowed_mentions with an empty
// parse list so that no "@everyone" in a reason pings anyone
// (https://discord.com/developers/docs/resources/webhook#execute-webhook,
// https://discord.com/developers/docs/resources/message#allowed-mentions-object).
Outgoing Discord(const Target& target, const Notice& n) {
  Outgoing out = Base(target, target.url);
  out.headers.emplace_back("Content-Type", "application/json");
  out.body = JsonObject([&](json::Writer& w) {
    json::Str(w, "content", Truncate(Text(n), kDiscordMax));
    w.Key("allowed_mentions");
    w.StartObject();
    w.Key("parse");
    w.StartArray();
    w.EndArray();
    w.EndObject();
  });
  return out;
}

// Gotify: POST <server>/message with the app token in X-Gotify-Key and
// {"title", "message", "priority"} (https://gotify.net/docs/pushmsg, https://gotify.net/api-docs).
// Priority 8 for a failure (8-10 is the Android client's most insistent band), 5 otherwise.
Outgoing Gotify(const Target& target, const Notice& n) {
  // "/message" goes at the end of the path, before a query a proxy may need.
  const std::string_view given = target.url;
  const std::size_t query = given.find_first_of("?#");
  std::string url = TrimSlash(given.substr(0, query));
  if (!PathOf(url).ends_with("/message")) url += "/message";
  if (query != std::string_view::npos) url += given.substr(query);
  Outgoing out = Base(target, std::move(url));
  out.headers.emplace_back("Content-Type", "application/json");
  if (!target.secret.empty()) out.headers.emplace_back("X-Gotify-Key", target.secret);
  out.body = JsonObject([&](json::Writer& w) {
    json::Str(w, "title", Title(n));
    json::Str(w, "message", Text(n));
    json::Int(w, "priority", Urgent(n.what) ? 8 : 5);
  });
  return out;
}

// Apprise API: POST /notify/<key> (a stored configuration) or /notify/ (the server's
// APPRISE_STATELESS_URLS) with {"title", "body", "type"}, type one of info, success, warning,
// failure (https://github.com/caronc/apprise-api#api-details).
Outgoing Apprise(const Target& target, const Notice& n) {
  std::string url = target.url;
  if (PathOf(url).find("/notify") == std::string_view::npos) url = TrimSlash(url) + "/notify/";
  Outgoing out = Base(target, std::move(url));
  out.headers.emplace_back("Content-Type", "application/json");
  if (!target.secret.empty()) out.headers.emplace_back("Authorization", "Bearer " + target.secret);
  std::string_view type = "info";
  switch (n.what) {
    case What::kStarted: type = "info"; break;
    case What::kSucceeded:
    case What::kRecovered: type = "success"; break;
    case What::kRolledBack:
    case What::kRefused: type = "warning"; break;
    case What::kFailed: type = "failure"; break;
  }
  out.body = JsonObject([&](json::Writer& w) {
    json::Str(w, "title", Title(n));
    json::Str(w, "body", Text(n));
    json::Str(w, "type", type);
  });
  return out;
}

}  // namespace podcd::notify
