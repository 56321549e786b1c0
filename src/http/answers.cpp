#include "http/answers.hpp"

#include <algorithm>

#include "util/json.hpp"

namespace podcd::http {
namespace {

std::string Done(const rapidjson::StringBuffer& buf) { return {buf.GetString(), buf.GetSize()}; }

void Text(json::Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  json::Text(w, value);
}

// The newest deployment in `recent` (newest first) that named or ran `stack` (a sync, which
// plans every stack, runs none).
std::string LastDeploymentOf(const std::string& stack, const std::vector<state::Deployment>& recent) {
  for (const auto& d : recent) {
    if (d.trigger.kind == state::TriggerKind::kSync) continue;
    bool touched =
        std::find(d.trigger.stacks.begin(), d.trigger.stacks.end(), stack) != d.trigger.stacks.end() ||
        std::any_of(d.stacks.begin(), d.stacks.end(), [&](const auto& o) { return o.name == stack; });
    if (touched) return d.id;
  }
  return {};
}

}  // namespace

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kIo:
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string ErrorBody(std::string_view message) { return FlatObject({{"error", message}}); }

Answer ErrorAnswer(const Error& error) { return {HttpStatus(error.code), ErrorBody(error.message)}; }

std::string FlatObject(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  for (const auto& [key, value] : fields) Text(w, key, value);
  w.EndObject();
  return Done(buf);
}

std::string DeploymentsBody(const std::vector<state::Deployment>& deployments, std::size_t log_lines) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("deployments");
  w.StartArray();
  for (const auto& d : deployments) {
    const std::string record = state::ToJson(d, log_lines);
    w.RawValue(record.data(), record.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

Answer HealthAnswer(const std::vector<std::string>& problems, std::string_view version) {
  if (problems.empty()) {
    if (version.empty()) return {200, FlatObject({{"status", "ok"}})};
    return {200, FlatObject({{"status", "ok"}, {"version", version}})};
  }
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  Text(w, "status", "unhealthy");
  w.Key("reasons");
  w.StartArray();
  for (const auto& p : problems) json::Text(w, p);
  w.EndArray();
  w.EndObject();
  return {503, Done(buf)};
}

std::string StacksBody(std::vector<StackInfo> stacks, const std::vector<state::Deployment>& recent) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("stacks");
  w.StartArray();
  for (auto& s : stacks) {
    if (s.last_deployment.empty()) s.last_deployment = LastDeploymentOf(s.name, recent);
    w.StartObject();
    Text(w, "name", s.name);
    Text(w, "commit", s.commit);
    Text(w, "fingerprint", s.fingerprint);
    Text(w, "state", s.state);
    Text(w, "last_deployment", s.last_deployment);
    w.Key("services");
    w.StartArray();
    for (const auto& v : s.services) {
      w.StartObject();
      Text(w, "name", v.name);
      Text(w, "container", v.container);
      Text(w, "status", v.status);
      Text(w, "health", v.health);
      Text(w, "image", v.image);
      w.EndObject();
    }
    w.EndArray();
    w.Key("reasons");
    w.StartArray();
    for (const auto& r : s.reasons) json::Text(w, r);
    w.EndArray();
    // A value podcd cannot know is null; a field added has no old value, one removed no new.
    w.Key("changes");
    w.StartArray();
    for (const auto& c : s.changes) {
      w.StartObject();
      Text(w, "service", c.service);
      Text(w, "field", c.field);
      Text(w, "change", c.change);
      w.Key("old");
      if (c.old_value)
        json::Text(w, *c.old_value);
      else
        w.Null();
      w.Key("new");
      if (c.new_value)
        json::Text(w, *c.new_value);
      else
        w.Null();
      w.EndObject();
    }
    w.EndArray();
    // Keys the stack's files write that podcd ignores (as in `podcd plan --format json`).
    if (!s.notes.empty()) {
      w.Key("notes");
      w.StartArray();
      for (const auto& n : s.notes) json::Text(w, n);
      w.EndArray();
    }
    // Only for a stack an operator suspended or pinned: loud where it applies, absent elsewhere.
    for (const auto& [key, value] :
         {std::pair{"suspended", s.suspended ? state::SuspensionJson(*s.suspended) : ""},
          std::pair{"pinned", s.pinned ? state::PinJson(*s.pinned) : ""}}) {
      if (value.empty()) continue;
      w.Key(key);
      w.RawValue(value.data(), value.size(), rapidjson::kObjectType);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

}  // namespace podcd::http
