#include "state/deployment.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "state/deployment_json.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace podcd::state {

std::string_view ToString(DeploymentState s) {
  switch (s) {
    case DeploymentState::kQueued: return "queued";
    case DeploymentState::kRunning: return "running";
    case DeploymentState::kSucceeded: return "succeeded";
    case DeploymentState::kFailed: return "failed";
    case DeploymentState::kSuperseded: return "superseded";
  }
  return "failed";
}

TriggerKind ParseTriggerKind(std::string_view text) {
  for (auto k : {TriggerKind::kDeployAllChanged, TriggerKind::kRedeployAndUpdate, TriggerKind::kDeploy,
                 TriggerKind::kPoll, TriggerKind::kSync}) {
    if (ToString(k) == text) return k;
  }
  return TriggerKind::kUnknown;
}

std::optional<DeploymentState> ParseDeploymentState(std::string_view text) {
  for (auto s : {DeploymentState::kQueued, DeploymentState::kRunning, DeploymentState::kSucceeded,
                 DeploymentState::kFailed, DeploymentState::kSuperseded}) {
    if (ToString(s) == text) return s;
  }
  return std::nullopt;
}

void AppendLog(Deployment& d, std::string line) {
  if (d.log.size() > kMaxLogLines) return;
  if (d.log.size() == kMaxLogLines) {
    d.log.emplace_back("... further log lines dropped (limit " + std::to_string(kMaxLogLines) + ")");
    return;
  }
  log::MaskSecrets(line);
  if (line.size() > kMaxLogLineBytes) {
    line.resize(kMaxLogLineBytes);
    line += " ...";
  }
  d.log.push_back(std::move(line));
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339Ms(std::int64_t epoch_ms) {
  // A record may hold any number (a hand-edited or torn file): past the system clock's last
  // nanosecond (in 2262) the conversion would overflow, and before 1970 the text is malformed.
  constexpr std::int64_t kLast =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::duration::max())
          .count();
  if (epoch_ms <= 0 || epoch_ms > kLast) return {};
  return log::Rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(epoch_ms)));
}

namespace {

using json::GetBool;
using json::GetInt;
using json::GetStr;
using json::Int;
using json::Str;
using json::Writer;

}  // namespace

void WriteTrigger(Writer& w, const Trigger& t) {
  w.StartObject();
  Str(w, "kind", t.KindWord());
  Str(w, "event", t.event);
  Str(w, "delivery_id", t.delivery_id);
  // "stack" for the single-stack trigger, "stacks" always.
  if (t.stacks.size() == 1) Str(w, "stack", t.stacks.front());
  w.Key("stacks");
  w.StartArray();
  for (const auto& s : t.stacks) json::String(w, s);
  w.EndArray();
  w.Key("all_changed");
  w.Bool(t.all_changed);
  w.Key("pull");
  w.Bool(t.pull);
  w.Key("force");
  w.Bool(t.force);
  if (t.pull_uploaded) {  // only when asked for: older readers keep their exact records
    w.Key("pull_uploaded");
    w.Bool(true);
  }
  Str(w, "actor", t.actor);
  w.EndObject();
}

Trigger ReadTrigger(const rapidjson::Value& o) {
  Trigger t;
  t.SetKindWord(GetStr(o, "kind"));
  t.event = GetStr(o, "event");
  t.delivery_id = GetStr(o, "delivery_id");
  t.all_changed = GetBool(o, "all_changed");
  t.pull = GetBool(o, "pull");
  t.force = GetBool(o, "force");
  t.pull_uploaded = GetBool(o, "pull_uploaded");
  t.actor = GetStr(o, "actor");
  if (auto s = o.FindMember("stacks"); s != o.MemberEnd() && s->value.IsArray()) {
    for (const auto& v : s->value.GetArray()) {
      if (v.IsString()) t.stacks.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return t;
}

void WriteStackOutcome(Writer& w, const StackOutcome& s) {
  w.StartObject();
  Str(w, "name", s.name);
  Str(w, "outcome", s.outcome);
  Str(w, "reason", s.reason);
  Int(w, "duration_ms", s.duration_ms);
  // Only when some went: most records have none, and readers of older ones see no change.
  if (s.images_removed > 0) {
    Int(w, "images_removed", s.images_removed);
    Int(w, "image_bytes_freed", s.image_bytes_freed);
  }
  if (!s.hook.empty()) {
    Str(w, "hook", s.hook);
    if (s.hook_exit_code) Int(w, "hook_exit_code", *s.hook_exit_code);
    Str(w, "hook_output", s.hook_output);
  }
  w.EndObject();
}

StackOutcome ReadStackOutcome(const rapidjson::Value& o) {
  StackOutcome s{GetStr(o, "name"), GetStr(o, "outcome"), GetStr(o, "reason"), GetInt(o, "duration_ms")};
  s.images_removed = GetInt(o, "images_removed");
  s.image_bytes_freed = GetInt(o, "image_bytes_freed");
  s.hook = GetStr(o, "hook");
  if (auto code = o.FindMember("hook_exit_code"); code != o.MemberEnd() && code->value.IsInt64())
    s.hook_exit_code = code->value.GetInt64();
  s.hook_output = GetStr(o, "hook_output");
  return s;
}

std::string ToJson(const Deployment& d, std::size_t max_log_lines) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "id", d.id);
  w.Key("trigger");
  WriteTrigger(w, d.trigger);
  Int(w, "coalesced", d.coalesced);
  Str(w, "state", ToString(d.state));
  Str(w, "commit", d.commit);
  Str(w, "reason", d.reason);
  if (!d.superseded_by.empty()) Str(w, "superseded_by", d.superseded_by);
  w.Key("stacks");
  w.StartArray();
  std::int64_t bytes_freed = 0;
  for (const auto& s : d.stacks) {
    WriteStackOutcome(w, s);
    bytes_freed += s.image_bytes_freed;
  }
  w.EndArray();
  if (bytes_freed > 0) Int(w, "image_bytes_freed", bytes_freed);  // every stack's together
  Int(w, "queued_at_ms", d.queued_at_ms);
  Int(w, "started_at_ms", d.started_at_ms);
  Int(w, "finished_at_ms", d.finished_at_ms);
  Str(w, "queued_at", Rfc3339Ms(d.queued_at_ms));
  Str(w, "started_at", Rfc3339Ms(d.started_at_ms));
  Str(w, "finished_at", Rfc3339Ms(d.finished_at_ms));
  std::size_t skip = d.log.size() > max_log_lines ? d.log.size() - max_log_lines : 0;
  if (skip > 0) Int(w, "log_omitted", static_cast<std::int64_t>(skip));
  w.Key("log");
  w.StartArray();
  for (std::size_t i = skip; i < d.log.size(); ++i) json::String(w, d.log[i]);
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<Deployment> FromJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Fail(ErrorCode::kInvalidArgument, "not a deployment record (malformed JSON)");
  }
  Deployment d;
  d.id = GetStr(doc, "id");
  if (d.id.empty()) return Fail(ErrorCode::kInvalidArgument, "deployment record without an id");
  auto state = ParseDeploymentState(GetStr(doc, "state"));
  if (!state) return Fail(ErrorCode::kInvalidArgument, "deployment record with an unknown state", d.id);
  d.state = *state;
  if (auto t = doc.FindMember("trigger"); t != doc.MemberEnd() && t->value.IsObject())
    d.trigger = ReadTrigger(t->value);
  d.coalesced = GetInt(doc, "coalesced");
  d.commit = GetStr(doc, "commit");
  d.reason = GetStr(doc, "reason");
  d.superseded_by = GetStr(doc, "superseded_by");
  auto st = doc.FindMember("stacks");
  if (st != doc.MemberEnd() && st->value.IsArray()) {
    for (const auto& v : st->value.GetArray()) {
      if (v.IsObject()) d.stacks.push_back(ReadStackOutcome(v));
    }
  }
  d.queued_at_ms = GetInt(doc, "queued_at_ms");
  d.started_at_ms = GetInt(doc, "started_at_ms");
  d.finished_at_ms = GetInt(doc, "finished_at_ms");
  auto lg = doc.FindMember("log");
  if (lg != doc.MemberEnd() && lg->value.IsArray()) {
    for (const auto& v : lg->value.GetArray()) {
      if (v.IsString()) d.log.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return d;
}

}  // namespace podcd::state
