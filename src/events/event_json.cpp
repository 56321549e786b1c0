#include "events/event_json.hpp"

#include "state/deployment_json.hpp"
#include "util/json.hpp"

namespace podcd::events {

std::string ToJson(const Event& e) {
  using json::Str;
  const state::Deployment& d = e.deployment;
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "seq", static_cast<std::int64_t>(e.seq));
  Str(w, "kind", ToString(e.kind));
  Str(w, "deployment", d.id);
  Str(w, "state", state::ToString(d.state));
  Str(w, "commit", d.commit);
  Str(w, "reason", d.reason);
  if (!d.superseded_by.empty()) Str(w, "superseded_by", d.superseded_by);
  w.Key("trigger");
  state::WriteTrigger(w, d.trigger);
  w.Key("stacks");
  w.StartArray();
  for (const auto& s : d.stacks) state::WriteStackOutcome(w, s);
  w.EndArray();
  if (e.stack && e.kind == Kind::kStackStarted) {
    // No outcome yet: the stack's name alone.
    w.Key("stack");
    w.StartObject();
    Str(w, "name", e.stack->name);
    w.EndObject();
  } else if (e.stack) {
    w.Key("stack");
    state::WriteStackOutcome(w, *e.stack);
  }
  Str(w, "queued_at", state::Rfc3339Ms(d.queued_at_ms));
  Str(w, "started_at", state::Rfc3339Ms(d.started_at_ms));
  Str(w, "finished_at", state::Rfc3339Ms(d.finished_at_ms));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace podcd::events
