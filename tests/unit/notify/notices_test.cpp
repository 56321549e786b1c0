// What to tell: from scripted deployment events and the memory of what was told (issue 15).
#include "notify/notices.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "notify/formats.hpp"
#include "util/json.hpp"

using namespace podcd;
using namespace podcd::notify;

namespace {

int g_next = 1;

state::Deployment Deployment(state::TriggerKind kind, state::DeploymentState st,
                             std::vector<state::StackOutcome> stacks, std::string reason = "") {
  state::Deployment d;
  d.id = "20261202-120000-" + std::to_string(g_next++);
  d.trigger.kind = kind;
  d.trigger.actor = kind == state::TriggerKind::kPoll ? "poll" : "user:ada";
  d.trigger.all_changed = true;
  d.state = st;
  d.commit = "c0ffee";
  d.reason = std::move(reason);
  d.stacks = std::move(stacks);
  d.started_at_ms = 1000;
  d.finished_at_ms = 2000;
  return d;
}

events::Event Finished(const state::Deployment& d) {
  events::Event e;
  e.kind = events::Kind::kFinished;
  e.deployment = d;
  return e;
}

state::Deployment Poll(std::vector<state::StackOutcome> stacks) {
  bool failed = false;
  for (const auto& s : stacks) failed = failed || FailureOf(s.outcome).has_value();
  return Deployment(state::TriggerKind::kPoll,
                    failed ? state::DeploymentState::kFailed : state::DeploymentState::kSucceeded,
                    std::move(stacks), failed ? "1 stack failed" : "");
}

std::vector<What> Whats(const Told& told) {
  std::vector<What> out;
  for (const auto& n : told.notices) out.push_back(n.what);
  return out;
}

Context Ctx() { return {"https://podcd.example.net/podcd", "beefcafe"}; }

}  // namespace

TEST_CASE("a stack failing three times with the same reason is told once, then its recovery once") {
  Teller t;
  auto first = t.OnEvent(Finished(Poll({{"web", "failed", "health check failed", 5}})), Ctx());
  REQUIRE(Whats(first) == std::vector<What>{What::kFailed});
  CHECK(first.memory_changed);
  const Notice& n = first.notices.front();
  REQUIRE(n.stacks.size() == 1);
  CHECK(n.stacks[0].name == "web");
  CHECK(n.stacks[0].outcome == "failed");
  CHECK(n.stacks[0].reason == "health check failed");
  CHECK(n.commit == "c0ffee");
  CHECK(n.previous_commit == "beefcafe");
  CHECK(n.actor == "poll");
  CHECK(n.trigger == "poll");
  CHECK(n.link == "https://podcd.example.net/podcd/deployments/" + n.deployment);
  CHECK(n.at_ms == 2000);

  for (int i = 0; i < 2; ++i) {
    auto again = t.OnEvent(Finished(Poll({{"web", "failed", "health check failed", 5}})), Ctx());
    CHECK(again.notices.empty());
    CHECK_FALSE(again.memory_changed);
  }
  // Back-off, skipped: still nothing, and the failure is still remembered.
  CHECK(t.OnEvent(Finished(Poll({{"web", "backoff", "in back-off", 0}})), Ctx()).notices.empty());
  auto back = t.OnEvent(Finished(Poll({{"web", "updated", "", 5}})), Ctx());
  // A poll that changed a stack also succeeded (for the targets that ask for that word).
  REQUIRE(Whats(back) == std::vector<What>{What::kRecovered, What::kSucceeded});
  CHECK(back.notices[0].stacks.at(0).name == "web");
  CHECK(back.memory_changed);
  CHECK(t.OnEvent(Finished(Poll({{"web", "unchanged", "", 5}})), Ctx()).notices.empty());
}

TEST_CASE("a new reason is a new notice; rolled back and refused have their own words") {
  Teller t;
  CHECK(Whats(t.OnEvent(Finished(Poll({{"web", "failed", "pull failed", 0}})), Ctx())) ==
        std::vector<What>{What::kFailed});
  CHECK(Whats(t.OnEvent(Finished(Poll({{"web", "failed", "health check failed", 0}})), Ctx())) ==
        std::vector<What>{What::kFailed});
  CHECK(Whats(t.OnEvent(Finished(Poll({{"web", "rolled-back", "health check failed", 0}})), Ctx())) ==
        std::vector<What>{What::kRolledBack});
  auto two = t.OnEvent(
      Finished(Poll({{"web", "rolled-back", "health check failed", 0}, {"app", "refused", "privileged", 0}})),
      Ctx());
  REQUIRE(Whats(two) == std::vector<What>{What::kRefused});
  CHECK(two.notices[0].stacks.size() == 1);
  CHECK(two.notices[0].stacks[0].name == "app");
  CHECK(Whats(t.OnEvent(Finished(Poll({{"app", "invalid", "bad yaml", 0}})), Ctx())) ==
        std::vector<What>{What::kFailed});
}

TEST_CASE("the memory survives a restart: neither repeated nor forgotten") {
  Teller before;
  before.OnEvent(Finished(Poll({{"web", "failed", "health check failed", 0}})), Ctx());
  auto text = ToJson(before.memory());
  auto read = MemoryFromJson(text);
  REQUIRE(read);
  CHECK(*read == before.memory());
  Teller after(*read);
  CHECK(after.OnEvent(Finished(Poll({{"web", "failed", "health check failed", 0}})), Ctx()).notices.empty());
  CHECK(Whats(after.OnEvent(Finished(Poll({{"web", "unchanged", "", 0}})), Ctx())) ==
        std::vector<What>{What::kRecovered});
  CHECK_FALSE(MemoryFromJson("{not json"));
  auto empty = MemoryFromJson("{}");
  REQUIRE(empty);
  CHECK(*empty == Memory{});
}

TEST_CASE("a deployment that fails before any stack is told once, and its recovery") {
  Teller t;
  auto d = Deployment(state::TriggerKind::kPoll, state::DeploymentState::kFailed, {}, "repo sync: no answer");
  auto first = t.OnEvent(Finished(d), Ctx());
  REQUIRE(Whats(first) == std::vector<What>{What::kFailed});
  CHECK(first.notices[0].reason == "repo sync: no answer");
  CHECK(first.notices[0].stacks.empty());
  d.id += "x";
  CHECK(t.OnEvent(Finished(d), Ctx()).notices.empty());
  CHECK(Whats(t.OnEvent(Finished(Poll({{"web", "unchanged", "", 0}})), Ctx())) ==
        std::vector<What>{What::kRecovered});
  // Interrupted by podcd's own stop: nothing.
  auto stopped = Deployment(state::TriggerKind::kDeploy, state::DeploymentState::kFailed, {}, "interrupted");
  CHECK(t.OnEvent(Finished(stopped), Ctx()).notices.empty());
}

TEST_CASE("a flood of deployments is not a flood of notices") {
  Teller t;
  for (int i = 0; i < 20; ++i) {
    CHECK(t.OnEvent(Finished(Poll({{"web", "unchanged", "", 0}})), Ctx()).notices.empty());
  }
  auto superseded = Deployment(state::TriggerKind::kDeployAllChanged, state::DeploymentState::kSuperseded, {},
                               "superseded by deployment x");
  CHECK(t.OnEvent(Finished(superseded), Ctx()).notices.empty());
  CHECK(t.OnEvent(Finished(superseded), Ctx()).forge.empty());
  // A poll that changed something, and a push that changed nothing: `succeeded`.
  CHECK(Whats(t.OnEvent(Finished(Poll({{"web", "updated", "", 0}})), Ctx())) ==
        std::vector<What>{What::kSucceeded});
  auto push = Deployment(state::TriggerKind::kDeployAllChanged, state::DeploymentState::kSucceeded,
                         {{"web", "unchanged", "", 0}});
  CHECK(Whats(t.OnEvent(Finished(push), Ctx())) == std::vector<What>{What::kSucceeded});
}

TEST_CASE("started is told for a deployment someone asked for, not for a poll or a sync") {
  Teller t;
  auto push = Deployment(state::TriggerKind::kDeployAllChanged, state::DeploymentState::kRunning, {});
  push.commit.clear();
  events::Event e;
  e.kind = events::Kind::kStarted;
  e.deployment = push;
  auto told = t.OnEvent(e, Ctx());
  REQUIRE(Whats(told) == std::vector<What>{What::kStarted});
  CHECK(told.notices[0].actor == "user:ada");
  CHECK(told.notices[0].trigger == "deploy-all-changed");
  e.deployment = Deployment(state::TriggerKind::kPoll, state::DeploymentState::kRunning, {});
  CHECK(t.OnEvent(e, Ctx()).notices.empty());
  e.deployment = Deployment(state::TriggerKind::kSync, state::DeploymentState::kRunning, {});
  CHECK(t.OnEvent(e, Ctx()).notices.empty());
  e.kind = events::Kind::kQueued;
  e.deployment = push;
  CHECK(t.OnEvent(e, Ctx()).notices.empty());
}

namespace {

constexpr std::string_view kSha = "0123456789abcdef0123456789abcdef01234567";

events::Event StackStarted(const state::Deployment& d, const std::string& stack) {
  events::Event e;
  e.kind = events::Kind::kStackStarted;
  e.deployment = d;
  e.stack = state::StackOutcome{stack, "", "", 0};
  return e;
}

events::Event StackEnded(const state::Deployment& d, state::StackOutcome outcome) {
  events::Event e;
  e.kind = events::Kind::kStack;
  e.deployment = d;
  e.stack = std::move(outcome);
  return e;
}

// The statuses a GitHub forge gets for what one event tells, in order: "<context> <state>".
std::vector<std::string> Statuses(const Told& told) {
  config::Config::Forge forge;
  forge.type = "github";
  forge.repository = "acme/env";
  std::vector<std::string> out;
  for (const auto& n : told.forge) {
    for (const auto& o : ForgeStatuses(forge, n)) {
      rapidjson::Document doc;
      doc.Parse(o.body.data(), o.body.size());
      CHECK(o.url.ends_with("/statuses/" + n.commit));  // the deployment's commit
      out.push_back(json::GetStr(doc, "context") + " " + json::GetStr(doc, "state"));
    }
  }
  return out;
}

using List = std::vector<std::string>;

}  // namespace

TEST_CASE("the forge hears pending as each changed stack starts, then each stack's end") {
  Teller t;
  auto d = Deployment(state::TriggerKind::kDeployAllChanged, state::DeploymentState::kRunning, {});
  d.commit = std::string(kSha);
  // The first stack to start puts the deployment's own context to pending as well.
  CHECK(Statuses(t.OnEvent(StackStarted(d, "web"), Ctx())) == List{"podcd pending", "podcd/web pending"});
  CHECK(Statuses(t.OnEvent(StackEnded(d, {"web", "updated", "", 5}), Ctx())).empty());
  // A stack that ends unchanged never started (the engine tells only stacks the plan changes).
  CHECK(Statuses(t.OnEvent(StackEnded(d, {"app", "unchanged", "", 0}), Ctx())).empty());
  CHECK(Statuses(t.OnEvent(StackStarted(d, "db"), Ctx())) == List{"podcd/db pending"});
  CHECK(Statuses(t.OnEvent(StackEnded(d, {"db", "failed", "health", 7}), Ctx())).empty());

  d.state = state::DeploymentState::kFailed;
  d.reason = "failed stacks: db";
  d.stacks = {{"web", "updated", "", 5}, {"app", "unchanged", "", 0}, {"db", "failed", "health", 7}};
  CHECK(Statuses(t.OnEvent(Finished(d), Ctx())) ==
        List{"podcd/web success", "podcd/db failure", "podcd failure"});

  SECTION("the same run again on the same commit: the forge already shows it settled") {
    d.id += "y";
    d.state = state::DeploymentState::kRunning;
    CHECK(Statuses(t.OnEvent(StackStarted(d, "web"), Ctx())).empty());
    CHECK(Statuses(t.OnEvent(StackStarted(d, "db"), Ctx())).empty());
    d.state = state::DeploymentState::kFailed;
    CHECK(Statuses(t.OnEvent(Finished(d), Ctx())).empty());
  }
  SECTION("a stack settled on this commit that ends otherwise gets its new end") {
    d.id += "x";
    d.state = state::DeploymentState::kRunning;
    CHECK(Statuses(t.OnEvent(StackStarted(d, "db"), Ctx())).empty());
    d.state = state::DeploymentState::kSucceeded;
    d.stacks = {{"web", "unchanged", "", 0}, {"db", "updated", "", 3}};
    CHECK(Statuses(t.OnEvent(Finished(d), Ctx())) == List{"podcd/db success", "podcd success"});
  }
  SECTION("a new commit is news again, stack by stack") {
    d.id += "z";
    d.commit = "fedcba9876543210fedcba9876543210fedcba98";
    d.state = state::DeploymentState::kRunning;
    CHECK(t.OnEvent(StackStarted(d, "db"), Ctx()).forge.size() == 2);
    CHECK(t.OnEvent(StackStarted(d, "web"), Ctx()).forge.size() == 1);
  }
  SECTION("a stack shown pending gets its end whatever its outcome: it never stays pending") {
    d.id += "u";
    d.commit = "fedcba9876543210fedcba9876543210fedcba98";
    d.state = state::DeploymentState::kRunning;
    CHECK(t.OnEvent(StackStarted(d, "web"), Ctx()).forge.size() == 2);
    d.state = state::DeploymentState::kSucceeded;
    d.stacks = {{"web", "unchanged", "", 0}};
    CHECK(Statuses(t.OnEvent(Finished(d), Ctx())) == List{"podcd/web success", "podcd success"});
  }
  SECTION("without a commit there is nothing to put a status on") {
    d.id += "w";
    d.commit.clear();
    CHECK(t.OnEvent(StackStarted(d, "web"), Ctx()).forge.empty());
  }
}

TEST_CASE("the forge's memory survives a restart: the same end on the same commit is not told again") {
  Teller t;
  auto d = Deployment(state::TriggerKind::kDeployAllChanged, state::DeploymentState::kRunning, {});
  d.commit = std::string(kSha);
  CHECK(t.OnEvent(StackStarted(d, "db"), Ctx()).forge.size() == 2);
  d.state = state::DeploymentState::kFailed;
  d.stacks = {{"db", "failed", "health", 0}};
  CHECK(t.OnEvent(Finished(d), Ctx()).forge.size() == 1);
  // A stack that failed before it could start (its job could not be built) is told at the end.
  d.id += "n";
  d.stacks = {{"db", "failed", "health", 0}, {"web", "invalid", "bad compose file", 0}};
  CHECK(Statuses(t.OnEvent(Finished(d), Ctx())) ==
        List{"podcd/db failure", "podcd/web failure", "podcd failure"});

  auto read = MemoryFromJson(ToJson(t.memory()));
  REQUIRE(read);
  CHECK(read->forge.at("db") == std::string(kSha) + " failure");
  Teller after(*read);
  d.id += "r";
  d.state = state::DeploymentState::kRunning;
  CHECK(after.OnEvent(StackStarted(d, "db"), Ctx()).forge.empty());
  d.state = state::DeploymentState::kFailed;
  CHECK(after.OnEvent(Finished(d), Ctx()).forge.empty());
}

TEST_CASE("each target gets what its `on` and `stacks` ask for") {
  config::Config::NotifyTarget target;
  target.on = {"failed", "recovered"};
  Notice n;
  n.what = What::kFailed;
  n.stacks = {{"web", "failed", "x"}, {"app", "failed", "y"}};
  auto all = ForTarget(target, n);
  REQUIRE(all);
  CHECK(all->stacks.size() == 2);
  n.what = What::kRolledBack;
  CHECK_FALSE(ForTarget(target, n));
  n.what = What::kFailed;
  target.stacks = {"app"};
  auto some = ForTarget(target, n);
  REQUIRE(some);
  REQUIRE(some->stacks.size() == 1);
  CHECK(some->stacks[0].name == "app");
  target.stacks = {"db"};
  CHECK_FALSE(ForTarget(target, n));
  // A deployment-level notice (no stacks) reaches every target that asked for its word.
  n.stacks.clear();
  CHECK(ForTarget(target, n));
}

TEST_CASE("links") {
  CHECK(LinkTo("", "x") == "");
  CHECK(LinkTo("https://h/podcd", "20261202-1") == "https://h/podcd/deployments/20261202-1");
  CHECK(LinkTo("https://h/podcd/", "20261202-1") == "https://h/podcd/deployments/20261202-1");
}
