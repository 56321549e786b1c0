#include "events/event_json.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <string>

using namespace podcd;

namespace {

events::Event Sample(events::Kind kind) {
  events::Event e;
  e.kind = kind;
  e.seq = 42;
  auto& d = e.deployment;
  d.id = "20261202-101500-abc";
  d.trigger.kind = state::TriggerKind::kRedeployAndUpdate;
  d.trigger.stacks = {"web"};
  d.trigger.pull = true;
  d.trigger.actor = "webhook:d-1";
  d.state = state::DeploymentState::kRunning;
  d.commit = "0123456789abcdef";
  d.stacks = {{"web", "updated", "", 1500}};
  d.queued_at_ms = 1'764'670'500'000;  // 2025-12-02T10:15:00Z
  d.started_at_ms = 1'764'670'500'250;
  return e;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<missing>";
}

}  // namespace

TEST_CASE("an event's JSON: its seq and kind, the deployment's state, trigger and stacks, RFC 3339 times") {
  auto e = Sample(events::Kind::kStarted);
  e.deployment.log = {"never sent"};
  const std::string text = events::ToJson(e);
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  REQUIRE(doc.IsObject());
  CHECK(doc["seq"].GetInt64() == 42);
  CHECK(Str(doc, "kind") == "started");
  CHECK(Str(doc, "deployment") == "20261202-101500-abc");
  CHECK(Str(doc, "state") == "running");
  CHECK(Str(doc, "commit") == "0123456789abcdef");
  CHECK(Str(doc, "reason").empty());
  CHECK_FALSE(doc.HasMember("superseded_by"));
  // The record's own trigger and outcome writers.
  CHECK(Str(doc["trigger"], "kind") == "redeploy-and-update");
  CHECK(Str(doc["trigger"], "actor") == "webhook:d-1");
  CHECK(Str(doc["trigger"], "stack") == "web");
  REQUIRE(doc["stacks"].Size() == 1);
  CHECK(Str(doc["stacks"][0], "outcome") == "updated");
  CHECK_FALSE(doc.HasMember("stack"));  // only a stack event names the stack it is about
  CHECK(Str(doc, "queued_at") == "2025-12-02T10:15:00.000Z");
  CHECK(Str(doc, "started_at") == "2025-12-02T10:15:00.250Z");
  CHECK(Str(doc, "finished_at").empty());
  CHECK(text.find("never sent") == std::string::npos);
  CHECK(text.find('\n') == std::string::npos);  // one `data:` line on the stream
}

TEST_CASE("a stack-started event names the stack, with no outcome yet") {
  auto e = Sample(events::Kind::kStackStarted);
  e.stack = state::StackOutcome{"web", "", "", 0};
  rapidjson::Document doc;
  const std::string text = events::ToJson(e);
  doc.Parse(text.data(), text.size());
  CHECK(Str(doc, "kind") == "stack-started");
  REQUIRE(doc.HasMember("stack"));
  CHECK(Str(doc["stack"], "name") == "web");
  CHECK_FALSE(doc["stack"].HasMember("outcome"));
}

TEST_CASE("a stack event carries the outcome just set; a finished one its reason") {
  auto e = Sample(events::Kind::kStack);
  e.stack = state::StackOutcome{"web", "rolled-back", "health check failed", 9000};
  rapidjson::Document doc;
  const std::string text = events::ToJson(e);
  doc.Parse(text.data(), text.size());
  REQUIRE(doc.HasMember("stack"));
  CHECK(Str(doc["stack"], "name") == "web");
  CHECK(Str(doc["stack"], "outcome") == "rolled-back");
  CHECK(Str(doc["stack"], "reason") == "health check failed");
  CHECK(doc["stack"]["duration_ms"].GetInt64() == 9000);

  auto f = Sample(events::Kind::kFinished);
  f.deployment.state = state::DeploymentState::kFailed;
  f.deployment.reason = "bad \"compose\"\nfile";
  f.deployment.finished_at_ms = 1'764'670'501'000;
  const std::string ftext = events::ToJson(f);
  doc.Parse(ftext.data(), ftext.size());
  REQUIRE(doc.IsObject());
  CHECK(Str(doc, "kind") == "finished");
  CHECK(Str(doc, "state") == "failed");
  CHECK(Str(doc, "reason") == "bad \"compose\"\nfile");
  CHECK(Str(doc, "finished_at") == "2025-12-02T10:15:01.000Z");
  CHECK(ftext.find('\n') == std::string::npos);
}
