#include "state/store.hpp"

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <limits>

#include "support/temp_dir.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::state;

namespace {
Deployment Make(Store& s, DeploymentState st) {
  Deployment d;
  d.id = s.NewId();
  d.trigger.kind = TriggerKind::kRedeployAndUpdate;
  d.trigger.event = "release";
  d.trigger.delivery_id = "abc";
  d.trigger.stacks = {"web"};
  d.trigger.pull = true;
  d.state = st;
  d.commit = "0123abcd";
  d.stacks.push_back({"web", "updated", "image changed", 1234});
  d.queued_at_ms = NowMs();
  AppendLog(d, "line one");
  AppendLog(d, "line \"two\"\n");
  return d;
}
}  // namespace

TEST_CASE("deployment JSON round trip") {
  test::TempDir dir;
  auto s = Store::Open(dir.path());
  REQUIRE(s);
  auto d = Make(**s, DeploymentState::kSucceeded);
  auto back = FromJson(ToJson(d));
  REQUIRE(back);
  CHECK(back->id == d.id);
  CHECK(back->trigger.kind == d.trigger.kind);
  CHECK(back->trigger.stacks == d.trigger.stacks);
  CHECK(back->trigger.pull);
  CHECK(back->state == DeploymentState::kSucceeded);
  CHECK(back->stacks.size() == 1);
  CHECK(back->stacks[0].duration_ms == 1234);
  CHECK(back->log == d.log);
  CHECK_FALSE(FromJson("{").has_value());
  CHECK_FALSE(FromJson(R"({"id":"x","state":"bogus"})").has_value());
}

TEST_CASE("deployment JSON: images removed and bytes freed per stack and in total, only when some went") {
  Deployment d;
  d.id = "20261203-000000-000001";
  d.state = DeploymentState::kSucceeded;
  d.stacks.push_back({"web", "updated", "", 10, 3, 3000});
  d.stacks.push_back({"api", "updated", "", 10, 1, 500});
  d.stacks.push_back({"db", "unchanged", "", 0});
  const std::string json = ToJson(d);
  CHECK(json.find(R"("name":"web","outcome":"updated","reason":"","duration_ms":10,"images_removed":3,)"
                  R"("image_bytes_freed":3000})") != std::string::npos);
  CHECK(json.find(R"("name":"db","outcome":"unchanged","reason":"","duration_ms":0})") != std::string::npos);
  CHECK(json.find(R"("image_bytes_freed":3500,)") != std::string::npos);
  auto back = FromJson(json);
  REQUIRE(back);
  CHECK(back->stacks[0].images_removed == 3);
  CHECK(back->stacks[1].image_bytes_freed == 500);
  CHECK(back->stacks[2].images_removed == 0);
  d.stacks = {{"db", "unchanged", "", 0}};
  CHECK(ToJson(d).find("image_bytes_freed") == std::string::npos);
}

TEST_CASE("records persist and interrupted runs are marked failed on open") {
  test::TempDir dir;
  std::string done_id, running_id, queued_id;
  {
    auto s = Store::Open(dir.path());
    REQUIRE(s);
    auto done = Make(**s, DeploymentState::kSucceeded);
    auto running = Make(**s, DeploymentState::kRunning);
    auto queued = Make(**s, DeploymentState::kQueued);
    REQUIRE((*s)->Save(done));
    REQUIRE((*s)->Save(running));
    REQUIRE((*s)->Save(queued));
    done_id = done.id;
    running_id = running.id;
    queued_id = queued.id;
    CHECK(done_id < running_id);
    CHECK(running_id < queued_id);
  }
  auto s = Store::Open(dir.path());
  REQUIRE(s);
  CHECK((*s)->InterruptedOnOpen() == 2);
  CHECK((*s)->Get(done_id)->state == DeploymentState::kSucceeded);
  for (const auto& id : {running_id, queued_id}) {
    auto d = (*s)->Get(id);
    REQUIRE(d);
    CHECK(d->state == DeploymentState::kFailed);
    CHECK(d->reason == "interrupted");
    CHECK(d->finished_at_ms > 0);
  }
  auto list = (*s)->List(10);
  REQUIRE(list.size() == 3);
  CHECK(list[0].id == queued_id);  // newest first
  CHECK((*s)->List(1).size() == 1);
  // New ids continue after the old ones.
  CHECK((*s)->NewId() > queued_id);
  // And the on-disk record says so too (a second restart finds nothing to mark).
  auto again = Store::Open(dir.path());
  REQUIRE(again);
  CHECK((*again)->InterruptedOnOpen() == 0);
}

TEST_CASE("malformed record files are skipped, not fatal") {
  test::TempDir dir;
  dir.Write("deployments/garbage.json", "{not json");
  dir.Write("deployments/x.json", R"({"id":"other","state":"queued"})");
  auto s = Store::Open(dir.path());
  REQUIRE(s);
  CHECK((*s)->List(10).empty());
}

TEST_CASE("history is bounded") {
  test::TempDir dir;
  StoreOptions opt;
  opt.max_history = 5;
  auto s = Store::Open(dir.path(), opt);
  REQUIRE(s);
  std::string last;
  for (int i = 0; i < 12; ++i) {
    auto d = Make(**s, DeploymentState::kFailed);
    REQUIRE((*s)->Save(d));
    last = d.id;
  }
  CHECK((*s)->List(100).size() == 5);
  CHECK((*s)->List(1)[0].id == last);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "deployments")) ++files;
  CHECK(files == 5);
}

TEST_CASE("list views keep only the last log lines") {
  Deployment d;
  d.id = "20260101-000000-000001";
  for (int i = 0; i < 10; ++i) AppendLog(d, "line " + std::to_string(i));
  auto json = ToJson(d, 3);
  CHECK(json.find("\"log_omitted\":7") != std::string::npos);
  CHECK(json.find("line 6") == std::string::npos);
  CHECK(json.find("line 9") != std::string::npos);
  CHECK(ToJson(d).find("log_omitted") == std::string::npos);
}

TEST_CASE("log lines are bounded") {
  Deployment d;
  for (std::size_t i = 0; i < kMaxLogLines + 50; ++i) AppendLog(d, "x");
  CHECK(d.log.size() == kMaxLogLines + 1);
  Deployment e;
  AppendLog(e, std::string(kMaxLogLineBytes * 3, 'y'));
  CHECK(e.log[0].size() < kMaxLogLineBytes + 10);
}

TEST_CASE("delivery ids persist, expire by count, and survive a torn last line") {
  test::TempDir dir;
  StoreOptions opt;
  opt.max_delivery_ids = 50;
  {
    auto s = Store::Open(dir.path(), opt);
    REQUIRE(s);
    for (int i = 0; i < 120; ++i)
      REQUIRE((*s)->RememberDelivery("d" + std::to_string(i), "20260101-000000-000001"));
    CHECK((*s)->DeliveryCount() == 50);
    CHECK_FALSE((*s)->FindDelivery("d0"));
    CHECK((*s)->FindDelivery("d119") == std::string("20260101-000000-000001"));
    CHECK_FALSE((*s)->RememberDelivery("has space", "x"));
    CHECK_FALSE((*s)->RememberDelivery("", "x"));
  }
  { std::ofstream(dir / "deliveries.log", std::ios::app) << "123 torn"; }
  auto s = Store::Open(dir.path(), opt);
  REQUIRE(s);
  CHECK((*s)->DeliveryCount() == 50);
  CHECK((*s)->FindDelivery("d119"));
  CHECK((*s)->FindDelivery("d70"));
  CHECK_FALSE((*s)->FindDelivery("d69"));
}

TEST_CASE("delivery ids expire after the TTL") {
  test::TempDir dir;
  dir.Write("deliveries.log",
            "1000 old 20260101-000000-000001\n" + std::to_string(NowMs()) + " new 20260101-000000-000002\n");
  auto s = Store::Open(dir.path());
  REQUIRE(s);
  CHECK_FALSE((*s)->FindDelivery("old"));
  CHECK((*s)->FindDelivery("new") == std::string("20260101-000000-000002"));
}

TEST_CASE("registered secrets never reach a record: log lines, reasons, stack reasons, on disk too") {
  test::TempDir dir;
  podcd::log::AddSecret("hunter2-token-value");
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  state::Deployment d;
  d.id = (*store)->NewId();
  d.state = state::DeploymentState::kFailed;
  state::AppendLog(d, "sync: https://x:hunter2-token-value@git.example/env.git: 401");
  d.reason = "repository sync: auth hunter2-token-value refused";
  d.stacks = {{"web", "failed", "token hunter2-token-value", 1}};
  REQUIRE((*store)->Save(d));
  (*store)->UpdateInMemory(d);
  auto got = (*store)->Get(d.id);
  REQUIRE(got);
  const std::string json = state::ToJson(*got);
  CHECK(json.find("hunter2") == std::string::npos);
  CHECK(json.find("***") != std::string::npos);
  auto on_disk = ReadFile(dir / "deployments" / (d.id + ".json"));
  REQUIRE(on_disk);
  CHECK(on_disk->find("hunter2") == std::string::npos);
  podcd::log::ClearSecretsForTest();
}

TEST_CASE("a record stays valid JSON when its strings hold invalid UTF-8") {
  test::TempDir dir;
  auto s = Store::Open(dir.path());
  REQUIRE(s);
  auto d = Make(**s, DeploymentState::kFailed);
  // Lone continuation, truncated sequence, overlong form, surrogate, 0xFF.
  const std::string bad = "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xff";
  d.reason = "cannot parse compose.yml: " + bad;
  d.trigger.event = bad;
  d.trigger.stacks = {bad, "web"};
  d.stacks.push_back({"web", "failed", bad, 1});
  AppendLog(d, "binary compose file: " + bad);
  for (const auto& text : {ToJson(d), ToJson(d, 1)}) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    INFO(text);
    CHECK_FALSE(doc.HasParseError());
    CHECK(text.find("\xef\xbf\xbd") != std::string::npos);
  }
  // Valid strings keep their bytes through a round trip.
  d.reason = "caf\xc3\xa9 \xe2\x82\xac";
  auto back = FromJson(ToJson(d));
  REQUIRE(back);
  CHECK(back->reason == d.reason);
}

TEST_CASE("trigger kinds: one word each, both ways; an unknown word round-trips") {
  const std::pair<TriggerKind, const char*> kinds[] = {
      {TriggerKind::kDeployAllChanged, "deploy-all-changed"},
      {TriggerKind::kRedeployAndUpdate, "redeploy-and-update"},
      {TriggerKind::kDeploy, "deploy"},
      {TriggerKind::kPoll, "poll"},
      {TriggerKind::kSync, "sync"},
  };
  for (const auto& [k, word] : kinds) {
    CHECK(ToString(k) == word);
    CHECK(ParseTriggerKind(word) == k);
    Trigger t;
    t.SetKindWord(word);
    CHECK(t.kind == k);
    CHECK(t.KindWord() == word);
  }
  CHECK(ParseTriggerKind("webhook-v2") == TriggerKind::kUnknown);
  CHECK(Trigger{}.KindWord().empty());

  // A record of another build, with a kind this one does not know, is written back unchanged.
  Deployment d;
  d.id = "20260101-000000-000001";
  d.trigger.SetKindWord("webhook-v2");
  CHECK(d.trigger.kind == TriggerKind::kUnknown);
  auto back = FromJson(ToJson(d));
  REQUIRE(back);
  CHECK(back->trigger.kind == TriggerKind::kUnknown);
  CHECK(back->trigger.KindWord() == "webhook-v2");
  CHECK(ToJson(*back) == ToJson(d));
  Trigger other;
  other.SetKindWord("webhook-v3");
  CHECK_FALSE(other.SameWork(d.trigger));
}

TEST_CASE("a record's times beyond the system clock are written as no time, not overflowed") {
  // Found by the state fuzzer: past the year 2262 the clock's nanoseconds overflowed (UB).
  CHECK(state::Rfc3339Ms(0).empty());
  CHECK(state::Rfc3339Ms(1764670000123) == "2025-12-02T10:06:40.123Z");
  CHECK(state::Rfc3339Ms(9'223'372'036'854) == "2262-04-11T23:47:16.854Z");  // the clock's last millisecond
  CHECK(state::Rfc3339Ms(9'223'372'036'855).empty());
  CHECK(state::Rfc3339Ms(-1).empty());  // was "1969-12-31T23:59:59.-01Z"
  CHECK(state::Rfc3339Ms(9'764'670'000'000'000).empty());
  CHECK(state::Rfc3339Ms(std::numeric_limits<std::int64_t>::max()).empty());
  CHECK(state::Rfc3339Ms(std::numeric_limits<std::int64_t>::min()).empty());
  state::Deployment d;
  d.id = "20261202-000000-000001";
  d.queued_at_ms = 9'764'670'000'000'000;
  auto back = state::FromJson(state::ToJson(d));
  REQUIRE(back);
  CHECK(back->queued_at_ms == d.queued_at_ms);
  CHECK(state::ToJson(d).find(R"("queued_at":"")") != std::string::npos);
}

TEST_CASE("a trigger's actor and force round-trip through the record; force is work, the actor is not") {
  Deployment d;
  d.id = "20260101-000000-000002";
  d.trigger.kind = TriggerKind::kDeploy;
  d.trigger.stacks = {"web"};
  d.trigger.force = true;
  d.trigger.actor = "user:alice";
  const std::string json = ToJson(d);
  CHECK(json.find("\"force\":true") != std::string::npos);
  CHECK(json.find("\"actor\":\"user:alice\"") != std::string::npos);
  auto back = FromJson(json);
  REQUIRE(back);
  CHECK(back->trigger.force);
  CHECK(back->trigger.actor == "user:alice");
  CHECK(back->trigger.SameWork(d.trigger));

  Trigger unforced = d.trigger;
  unforced.force = false;
  CHECK_FALSE(unforced.SameWork(d.trigger));
  CHECK_FALSE(d.trigger.SameWork(unforced));
  Trigger other_actor = d.trigger;
  other_actor.actor = "cli";
  CHECK(other_actor.SameWork(d.trigger));

  // A record written before actors: no force, no actor.
  auto old = FromJson(R"({"id":"20260101-000000-000003","state":"succeeded",)"
                      R"("trigger":{"kind":"deploy","stacks":["web"],"all_changed":false,"pull":false}})");
  REQUIRE(old);
  CHECK_FALSE(old->trigger.force);
  CHECK(old->trigger.actor.empty());

  Deployment sync;
  sync.id = "20260101-000000-000004";
  sync.trigger.kind = TriggerKind::kSync;
  sync.stacks.push_back({"web", "would-update", "site: image changed", 0});
  auto sback = FromJson(ToJson(sync));
  REQUIRE(sback);
  CHECK(sback->trigger.kind == TriggerKind::kSync);
  REQUIRE(sback->stacks.size() == 1);
  CHECK(sback->stacks[0].outcome == "would-update");
  CHECK(sback->stacks[0].reason == "site: image changed");
}

TEST_CASE("a failed hook's name, exit code and output round-trip; absent without one") {
  Deployment d;
  d.id = "d1";
  d.stacks.push_back({"web", "failed", "hook pre_deploy exited with code 3", 12});
  d.stacks.back().hook = "pre_deploy";
  d.stacks.back().hook_exit_code = 3;
  d.stacks.back().hook_output = "migration failed\n";
  d.stacks.push_back({"api", "updated", "", 5});
  const std::string text = ToJson(d);
  CHECK(text.find(R"("hook":"pre_deploy","hook_exit_code":3,"hook_output":"migration failed\n")") !=
        std::string::npos);
  auto back = FromJson(text);
  REQUIRE(back.has_value());
  REQUIRE(back->stacks.size() == 2);
  CHECK(back->stacks[0].hook == "pre_deploy");
  CHECK(back->stacks[0].hook_exit_code == 3);
  CHECK(back->stacks[0].hook_output == "migration failed\n");
  CHECK(back->stacks[1].hook.empty());
  CHECK_FALSE(back->stacks[1].hook_exit_code.has_value());
  CHECK(ToJson(*back).find("\"api\",\"outcome\":\"updated\",\"reason\":\"\",\"duration_ms\":5}") !=
        std::string::npos);
}
