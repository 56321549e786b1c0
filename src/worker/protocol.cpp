#include "worker/protocol.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "state/deployment_json.hpp"
#include "util/enum_names.hpp"
#include "util/json.hpp"

namespace podcd::worker {
namespace {

using json::GetBool;
using json::GetInt;
using json::GetStr;
using json::Str;
using json::Writer;

template <typename Fn>
std::string Object(Fn&& fill) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  fill(w);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// The metric kinds' names on the wire, both ways.
constexpr std::pair<metrics::Kind, std::string_view> kKindNames[] = {
    {metrics::Kind::kAdd, "add"}, {metrics::Kind::kObserve, "observe"}, {metrics::Kind::kSet, "set"}};

std::string_view KindName(metrics::Kind k) { return NameOf(kKindNames, k, "set"); }

std::optional<metrics::Kind> KindFromName(std::string_view name) { return ValueOf(kKindNames, name); }

Expected<rapidjson::Document> ParseObject(std::string_view text, std::string_view what) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    std::string shown(text.substr(0, 200));
    return Fail(ErrorCode::kInvalidArgument, "not a JSON object: " + shown, std::string(what));
  }
  return doc;
}

}  // namespace

ConfigSnapshot SnapshotOf(const config::Config& boot, const config::Config& current) {
  ConfigSnapshot s;
  if (boot.source != "environment") s.file = boot.source;
  s.boot_text = boot.file_text;
  s.current_text = current.file_text;
  return s;
}

std::expected<config::Config, std::vector<Error>> LoadSnapshot(const ConfigSnapshot& snapshot) {
  auto load = [&](const std::string& text) {
    config::LoadOptions o;
    o.file = snapshot.file;
    o.default_file.clear();  // no file: the environment alone, as the daemon found it
    if (!snapshot.file.empty()) o.text = text;
    return config::Load(o);
  };
  auto boot = load(snapshot.boot_text);
  if (!boot) return boot;
  if (snapshot.current_text == snapshot.boot_text) return boot;
  auto current = load(snapshot.current_text);
  if (!current) return current;
  config::KeepRestartOnly(*current, *boot);
  return current;
}

std::string EncodeRequest(const Request& r) {
  return Object([&](Writer& w) {
    Str(w, "id", r.id);
    Str(w, "daemon_version", r.daemon_version);
    w.Key("trigger");
    state::WriteTrigger(w, r.trigger);
    w.Key("config");
    w.StartObject();
    Str(w, "file", r.config.file);
    Str(w, "boot_text", r.config.boot_text);
    Str(w, "current_text", r.config.current_text);
    w.EndObject();
    w.Key("secrets");
    w.StartArray();
    for (const auto& s : r.secrets) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  });
}

Expected<Request> DecodeRequest(std::string_view text) {
  rapidjson::Document parsed;
  parsed.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (parsed.HasParseError() || !parsed.IsObject())  // not quoted: a request holds secrets
    return Fail(ErrorCode::kInvalidArgument, "not a JSON object (" + std::to_string(text.size()) + " bytes)",
                "worker request");
  const auto* doc = &parsed;
  Request r;
  r.id = GetStr(*doc, "id");
  r.daemon_version = GetStr(*doc, "daemon_version");
  if (auto t = doc->FindMember("trigger"); t != doc->MemberEnd() && t->value.IsObject())
    r.trigger = state::ReadTrigger(t->value);
  if (auto c = doc->FindMember("config"); c != doc->MemberEnd() && c->value.IsObject()) {
    r.config.file = GetStr(c->value, "file");
    r.config.boot_text = GetStr(c->value, "boot_text");
    r.config.current_text = GetStr(c->value, "current_text");
  }
  if (auto s = doc->FindMember("secrets"); s != doc->MemberEnd() && s->value.IsArray()) {
    for (const auto& v : s->value.GetArray()) {
      if (v.IsString()) r.secrets.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return r;
}

std::string LogEvent(std::string_view line) {
  return Object([&](Writer& w) { Str(w, "log", line); });
}

std::string CommitEvent(std::string_view commit) {
  return Object([&](Writer& w) { Str(w, "commit", commit); });
}

std::string StackEvent(const state::StackOutcome& o) {
  return Object([&](Writer& w) {
    w.Key("stack");
    state::WriteStackOutcome(w, o);
  });
}

std::string StackStartedEvent(std::string_view stack) {
  return Object([&](Writer& w) { Str(w, "stack_started", stack); });
}

std::string HandOverEvent() {
  return Object([](Writer& w) {
    w.Key("handover");
    w.Bool(true);
  });
}

std::string MetricEvent(metrics::Kind kind, std::string_view name, const metrics::Labels& labels,
                        double value) {
  return Object([&](Writer& w) {
    w.Key("metric");
    w.StartObject();
    Str(w, "kind", KindName(kind));
    Str(w, "name", name);
    w.Key("labels");
    w.StartObject();
    for (const auto& [k, v] : labels) Str(w, k, v);
    w.EndObject();
    w.Key("value");
    w.Double(value);
    w.EndObject();
  });
}

std::string ResultEvent(const Expected<void>& result) {
  return Object([&](Writer& w) {
    w.Key("result");
    w.StartObject();
    w.Key("ok");
    w.Bool(result.has_value());
    if (!result) {
      json::Int(w, "code", static_cast<std::int64_t>(result.error().code));
      Str(w, "message", result.error().message);
      Str(w, "context", result.error().context);
    }
    w.EndObject();
  });
}

std::string DataEvent(std::string_view data) {
  return Object([&](Writer& w) {
    w.Key("data");
    w.RawValue(data.data(), data.size(), rapidjson::kObjectType);
  });
}

std::string EncodeStacks(const std::vector<StackObservation>& stacks) {
  return Object([&](Writer& w) {
    w.Key("stacks");
    w.StartArray();
    for (const auto& s : stacks) {
      w.StartObject();
      Str(w, "name", s.name);
      Str(w, "action", s.action);
      w.Key("drifted");
      w.Bool(s.drifted);
      Str(w, "fingerprint", s.fingerprint);
      Str(w, "commit", s.commit);
      Str(w, "last_deployment", s.last_deployment);
      w.Key("services");
      w.StartArray();
      for (const auto& v : s.services) {
        w.StartObject();
        Str(w, "name", v.name);
        Str(w, "container", v.container);
        Str(w, "status", v.status);
        Str(w, "health", v.health);
        Str(w, "image", v.image);
        w.EndObject();
      }
      w.EndArray();
      w.Key("reasons");
      w.StartArray();
      for (const auto& r : s.reasons) json::String(w, r);
      w.EndArray();
      w.Key("changes");
      w.StartArray();
      for (const auto& c : s.changes) {
        w.StartObject();
        Str(w, "service", c.service);
        Str(w, "field", c.field);
        Str(w, "change", c.change);
        if (c.old_value) Str(w, "old", *c.old_value);
        if (c.new_value) Str(w, "new", *c.new_value);
        w.EndObject();
      }
      w.EndArray();
      w.Key("notes");
      w.StartArray();
      for (const auto& n : s.notes) json::String(w, n);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

namespace {
std::optional<std::string> OptionalStr(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// The members of array `key` that are objects (strings for reasons); none when it is missing.
template <typename Fn>
void EachOf(const rapidjson::Value& v, const char* key, Fn&& fn) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) return;
  for (const auto& e : it->value.GetArray()) fn(e);
}
}  // namespace

Expected<std::vector<StackObservation>> DecodeStacks(std::string_view text) {
  auto doc = ParseObject(text, "stacks");
  if (!doc) return std::unexpected(doc.error());
  std::vector<StackObservation> out;
  auto it = doc->FindMember("stacks");
  if (it == doc->MemberEnd() || !it->value.IsArray())
    return Fail(ErrorCode::kInvalidArgument, "no stacks array", "stacks");
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsObject()) continue;
    StackObservation o{GetStr(v, "name"),        GetStr(v, "action"), GetBool(v, "drifted"),
                       GetStr(v, "fingerprint"), GetStr(v, "commit"), GetStr(v, "last_deployment")};
    EachOf(v, "services", [&](const rapidjson::Value& e) {
      if (e.IsObject())
        o.services.push_back({GetStr(e, "name"), GetStr(e, "container"), GetStr(e, "status"),
                              GetStr(e, "health"), GetStr(e, "image")});
    });
    EachOf(v, "reasons", [&](const rapidjson::Value& e) {
      if (e.IsString()) o.reasons.emplace_back(e.GetString(), e.GetStringLength());
    });
    EachOf(v, "changes", [&](const rapidjson::Value& e) {
      if (e.IsObject())
        o.changes.push_back({GetStr(e, "service"), GetStr(e, "field"), GetStr(e, "change"),
                             OptionalStr(e, "old"), OptionalStr(e, "new")});
    });
    EachOf(v, "notes", [&](const rapidjson::Value& e) {
      if (e.IsString()) o.notes.emplace_back(e.GetString(), e.GetStringLength());
    });
    out.push_back(std::move(o));
  }
  return out;
}

Expected<Applied> ApplyEvent(std::string_view line, reconcile::RunContext& ctx) {
  auto doc = ParseObject(line, "worker event");
  if (!doc) return std::unexpected(doc.error());
  Applied applied;
  const auto& d = *doc;
  if (auto it = d.FindMember("log"); it != d.MemberEnd() && it->value.IsString()) {
    ctx.Log(std::string(it->value.GetString(), it->value.GetStringLength()));
  } else if (it = d.FindMember("commit"); it != d.MemberEnd() && it->value.IsString()) {
    ctx.SetCommit(std::string(it->value.GetString(), it->value.GetStringLength()));
  } else if (it = d.FindMember("stack"); it != d.MemberEnd() && it->value.IsObject()) {
    ctx.SetStackOutcome(state::ReadStackOutcome(it->value));
  } else if (it = d.FindMember("stack_started"); it != d.MemberEnd() && it->value.IsString()) {
    ctx.StackStarted(std::string(it->value.GetString(), it->value.GetStringLength()));
  } else if (GetBool(d, "handover")) {
    ctx.HandOver();
  } else if (it = d.FindMember("metric"); it != d.MemberEnd() && it->value.IsObject()) {
    const auto& o = it->value;
    const std::string kind = GetStr(o, "kind");
    metrics::Labels labels;
    if (auto l = o.FindMember("labels"); l != o.MemberEnd() && l->value.IsObject()) {
      for (auto m = l->value.MemberBegin(); m != l->value.MemberEnd(); ++m) {
        if (m->value.IsString())
          labels.emplace_back(std::string(m->name.GetString(), m->name.GetStringLength()),
                              std::string(m->value.GetString(), m->value.GetStringLength()));
      }
    }
    auto v = o.FindMember("value");
    if (v == o.MemberEnd() || !v->value.IsNumber())
      return Fail(ErrorCode::kInvalidArgument, "metric without a value", "worker event");
    const auto k = KindFromName(kind);
    if (!k)
      return Fail(ErrorCode::kInvalidArgument, "metric of unknown kind \"" + kind + "\"", "worker event");
    metrics::Record(*k, GetStr(o, "name"), labels, v->value.GetDouble());
  } else if (it = d.FindMember("result"); it != d.MemberEnd() && it->value.IsObject()) {
    const auto& o = it->value;
    if (GetBool(o, "ok")) {
      applied.result = Expected<void>();
    } else {
      applied.result = Expected<void>(std::unexpected(
          Error{static_cast<ErrorCode>(GetInt(o, "code")), GetStr(o, "message"), GetStr(o, "context")}));
    }
  } else if (it = d.FindMember("data"); it != d.MemberEnd()) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    it->value.Accept(w);
    applied.data = std::string(buf.GetString(), buf.GetSize());
  } else {
    return Fail(ErrorCode::kInvalidArgument, "unknown event: " + std::string(line.substr(0, 200)),
                "worker event");
  }
  return applied;
}

}  // namespace podcd::worker
