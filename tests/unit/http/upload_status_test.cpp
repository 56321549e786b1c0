// GET /status/<project>[/<deployment>]: IPD's words for podcd's records.
#include "http/upload_status.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::http;

namespace {

state::Deployment Record(const std::string& id, state::DeploymentState st, std::vector<std::string> stacks,
                         std::vector<state::StackOutcome> outcomes = {}) {
  state::Deployment d;
  d.id = id;
  d.state = st;
  d.trigger.kind = state::TriggerKind::kDeploy;
  d.trigger.stacks = std::move(stacks);
  d.stacks = std::move(outcomes);
  return d;
}

}  // namespace

TEST_CASE("status: each deployment state in IPD's words") {
  using S = state::DeploymentState;
  const std::vector<state::Deployment> one = {Record("d1", S::kQueued, {"web"})};
  CHECK(Lookup(one, "web", "").status == "await");
  CHECK(Lookup(one, "web", "d1").status == "await");
  auto running = Record("d1", S::kRunning, {"web"});
  running.log = {"one", "two"};
  CHECK(Lookup({running}, "web", "").status == "active");
  CHECK(Lookup({Record("d1", S::kSucceeded, {"web"})}, "web", "d1").status == "ok");
  auto failed = Record("d1", S::kFailed, {"web"}, {{"web", "rolled-back", "health gate failed", 0}});
  failed.reason = "failed stacks: web";
  auto f = Lookup({failed}, "web", "d1");
  CHECK(f.status == "failed");
  CHECK(f.reason == "health gate failed");
  CHECK_FALSE(f.exit_code.has_value());
  auto sup = Record("d1", S::kSuperseded, {"web"});
  sup.reason = "superseded by d2";
  CHECK(Lookup({sup}, "web", "d1").status == "changed");
}

TEST_CASE("status: no for unknown projects and deployments, and for another project's deployment") {
  using S = state::DeploymentState;
  const std::vector<state::Deployment> h = {Record("d2", S::kSucceeded, {"api"}),
                                            Record("d1", S::kSucceeded, {"web"})};
  CHECK(Lookup(h, "db", "").status == "no");
  CHECK(Lookup(h, "web", "nope").status == "no");
  CHECK(Lookup(h, "web", "d2").status == "no");
  auto latest = Lookup(h, "web", "");
  CHECK(latest.status == "ok");
  CHECK(latest.deployment == "d1");
}

TEST_CASE("status: a deployment followed by a newer one of the project is changed") {
  using S = state::DeploymentState;
  const std::vector<state::Deployment> h = {Record("d3", S::kRunning, {"web"}),
                                            Record("d2", S::kSucceeded, {"api"}),
                                            Record("d1", S::kSucceeded, {"web"})};
  CHECK(Lookup(h, "web", "d1").status == "changed");
  CHECK(Lookup(h, "web", "").status == "active");
  // Only queued: the older one still is what runs.
  const std::vector<state::Deployment> q = {Record("d2", S::kQueued, {"web"}),
                                            Record("d1", S::kSucceeded, {"web"})};
  CHECK(Lookup(q, "web", "d1").status == "ok");
  // A deploy-all-changed that updated the project counts; one that left it unchanged does not.
  auto all = Record("d4", S::kSucceeded, {}, {{"web", "updated", "", 0}});
  auto none = Record("d5", S::kSucceeded, {}, {{"web", "unchanged", "", 0}});
  CHECK(Lookup({all, Record("d1", S::kSucceeded, {"web"})}, "web", "d1").status == "changed");
  CHECK(Lookup({none, Record("d1", S::kSucceeded, {"web"})}, "web", "d1").status == "ok");
}

TEST_CASE("status: a failing hook's exit code, read from the record's hook_exit_code") {
  // A record as the hooks write it (a newer field this build's struct does not carry).
  const std::string record =
      R"({"id":"d9","state":"failed","reason":"failed stacks: web","stacks":[)"
      R"({"name":"api","outcome":"updated","reason":""},)"
      R"({"name":"web","outcome":"failed","reason":"pre_deploy hook exited 3","hook_exit_code":3}]})";
  auto s = StatusOf(record, "web", false);
  CHECK(s.status == "3");
  CHECK(s.exit_code == 3);
  CHECK(s.reason == "pre_deploy hook exited 3");
  CHECK(s.deployment == "d9");
  // Another stack's hook code is not this project's.
  auto other = StatusOf(record, "api", false);
  CHECK(other.status == "failed");
  CHECK_FALSE(other.exit_code.has_value());
  const std::string json = StatusJson(s, "web", "/deploy");
  CHECK(json ==
        R"({"status":"3","project":"web","deployment":"d9","record":"/deploy/deployments/d9","exit_code":3,)"
        R"("reason":"pre_deploy hook exited 3"})");
  CHECK(StatusJson({"no", "", std::nullopt, ""}, "db", "") == R"({"status":"no","project":"db"})");
}
