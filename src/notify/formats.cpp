// Render's dispatch, and the `webhook` type: podcd's own JSON body, signed, with CloudEvents
// attributes as headers. Its shape is documented in docs/notifications.md ("webhook"); a field
// is only ever added, an incompatible change raises "version".
#include "notify/formats.hpp"

#include <chrono>
#include <string>

#include "notify/chat_formats.hpp"
#include "notify/text.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"

namespace podcd::notify {
namespace {

std::string Time(std::int64_t at_ms) {
  if (at_ms <= 0) return {};
  return log::Rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(at_ms)));
}

std::string WebhookBody(const Notice& n) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Int(w, "version", kWebhookVersion);
  json::Str(w, "event", ToString(n.what));
  json::Str(w, "deployment", n.deployment);
  json::Str(w, "actor", n.actor);
  json::Str(w, "trigger", n.trigger);
  json::Str(w, "commit", n.commit);
  json::Str(w, "previous_commit", n.previous_commit);
  json::Str(w, "reason", n.reason);
  w.Key("stacks");
  w.StartArray();
  for (const auto& s : n.stacks) {
    w.StartObject();
    json::Str(w, "name", s.name);
    json::Str(w, "outcome", s.outcome);
    json::Str(w, "reason", s.reason);
    w.EndObject();
  }
  w.EndArray();
  json::Str(w, "link", n.link);
  json::Str(w, "time", Time(n.at_ms));
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// The webhook: the body above as application/json, and CloudEvents 1.0 in binary content mode
// (the HTTP protocol binding, §3.1: each attribute a `ce-` header, the body the event's data;
// https://github.com/cloudevents/spec/blob/v1.0/http-protocol-binding.md), so a CloudEvents
// receiver (Knative, Argo Events, ...) takes it as it is. ce-id is unique per notice: a
// deployment sends each event word at most once.
Outgoing Webhook(const config::Config::NotifyTarget& target, const Notice& n) {
  Outgoing out;
  out.target = target.name;
  out.url = target.url;
  out.body = WebhookBody(n);
  out.headers.emplace_back("Content-Type", "application/json");
  out.headers.emplace_back("ce-specversion", "1.0");
  out.headers.emplace_back("ce-type", "io.podcd.deployment." + std::string(ToString(n.what)));
  out.headers.emplace_back("ce-source", "podcd");
  out.headers.emplace_back("ce-id", HeaderValue(n.deployment + "-" + std::string(ToString(n.what))));
  if (const std::string time = Time(n.at_ms); !time.empty()) out.headers.emplace_back("ce-time", time);
  if (!target.secret.empty()) {
    // GitHub's scheme (X-Hub-Signature-256: sha256=<hex>) under podcd's name: the HMAC-SHA256 of
    // the exact bytes sent, keyed with the secret, as lowercase hex.
    const Sha256Digest mac = HmacSha256(target.secret, out.body);
    const std::string_view raw(reinterpret_cast<const char*>(mac.data()), mac.size());
    out.headers.emplace_back("X-Podcd-Signature-256", "sha256=" + HexEncode(raw));
  }
  return out;
}

}  // namespace

std::optional<Outgoing> Render(const config::Config::NotifyTarget& target, const Notice& notice) {
  if (target.type == "webhook") return Webhook(target, notice);
  if (target.type == "ntfy") return Ntfy(target, notice);
  if (target.type == "slack") return Slack(target, notice);
  if (target.type == "discord") return Discord(target, notice);
  if (target.type == "gotify") return Gotify(target, notice);
  if (target.type == "apprise") return Apprise(target, notice);
  return std::nullopt;
}

}  // namespace podcd::notify
