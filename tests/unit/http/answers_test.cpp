// The HTTP answers as values: statuses for errors, the JSON bodies, the shared slow answers.
#include "http/answers.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "http/deferred_answers.hpp"
#include "http/waiting_answers.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::http;

TEST_CASE("one status per error code") {
  CHECK(HttpStatus(ErrorCode::kInvalidArgument) == 400);
  CHECK(HttpStatus(ErrorCode::kUnauthenticated) == 401);
  CHECK(HttpStatus(ErrorCode::kPermissionDenied) == 403);
  CHECK(HttpStatus(ErrorCode::kNotFound) == 404);
  CHECK(HttpStatus(ErrorCode::kAlreadyExists) == 409);
  CHECK(HttpStatus(ErrorCode::kUnavailable) == 503);
  CHECK(HttpStatus(ErrorCode::kTimeout) == 504);
  CHECK(HttpStatus(ErrorCode::kIo) == 500);
  CHECK(HttpStatus(ErrorCode::kInternal) == 500);
  auto a = ErrorAnswer({ErrorCode::kNotFound, "no such deployment", "where it was looked for"});
  CHECK(a.status == 404);
  CHECK(a.body == R"({"error":"no such deployment"})");
  CHECK(a.content_type == kJsonType);
}

TEST_CASE("bodies keep the escaping the API always had") {
  CHECK(ErrorBody("a \"b\"\n\x01/c") == R"({"error":"a \"b\"\n\u0001/c"})");
  CHECK(FlatObject({{"status", "ignored"}, {"reason", "x"}}) == R"({"status":"ignored","reason":"x"})");
  CHECK(FlatObject({}) == "{}");
  CHECK(HealthAnswer({}, "").body == R"({"status":"ok"})");
  CHECK(HealthAnswer({}, "1.2.3").body == R"({"status":"ok","version":"1.2.3"})");
  auto bad = HealthAnswer({"podman: down", "state dir \"x\""}, "1.2.3");
  CHECK(bad.status == 503);
  CHECK(bad.body == R"({"status":"unhealthy","reasons":["podman: down","state dir \"x\""]})");
  CHECK(DeploymentsBody({}, 50) == R"({"deployments":[]})");
}

TEST_CASE("GET /stacks carries the plan's notes where there are some") {
  StackInfo web{"web", "c", "f", "in-sync", "d-1"};
  web.notes = {"services.app.develop: ignored (\"watch\")"};
  CHECK(
      StacksBody({web}, {}) ==
      R"x({"stacks":[{"name":"web","commit":"c","fingerprint":"f","state":"in-sync","last_deployment":"d-1",)x"
      R"x("services":[],"reasons":[],"changes":[],"notes":["services.app.develop: ignored (\"watch\")"]}]})x");
}

TEST_CASE("GET /stacks names the newest deployment that touched a stack") {
  state::Deployment sync, named, ran, other;
  sync.id = "d-4";  // a sync plans every stack and touches none
  sync.trigger.kind = state::TriggerKind::kSync;
  sync.stacks = {{"db", "would-update", "", 0}, {"web", "unchanged", "", 0}};
  named.id = "d-3";
  named.trigger.stacks = {"web"};
  ran.id = "d-2";
  ran.stacks.push_back({"db", "updated", "", 1});
  other.id = "d-1";
  other.trigger.stacks = {"web", "db"};
  std::vector<StackInfo> stacks{{"db", "c", "f", "in-sync", ""},
                                {"web", "c", "f", "changed", ""},
                                {"cache", "", "", "unknown", ""},
                                {"kept", "", "", "unknown", "d-0"}};
  auto body = StacksBody(stacks, {sync, named, ran, other});
  CHECK(
      body ==
      R"({"stacks":[{"name":"db","commit":"c","fingerprint":"f","state":"in-sync","last_deployment":"d-2","services":[],"reasons":[],"changes":[]},)"
      R"({"name":"web","commit":"c","fingerprint":"f","state":"changed","last_deployment":"d-3","services":[],"reasons":[],"changes":[]},)"
      R"({"name":"cache","commit":"","fingerprint":"","state":"unknown","last_deployment":"","services":[],"reasons":[],"changes":[]},)"
      R"({"name":"kept","commit":"","fingerprint":"","state":"unknown","last_deployment":"d-0","services":[],"reasons":[],"changes":[]}]})");
}

TEST_CASE("GET /stacks shows each service's container and the plan's reasons, unknown values as null") {
  StackInfo web{"web", "c", "f", "changed", "d-1"};
  web.services = {{"app", "web_app_1", "running", "healthy", "nginx:1.25"}, {"db", "", "", "", ""}};
  web.reasons = {"app: image changed", "db: no container"};
  web.changes = {{"app", "image", "changed", "nginx:1.25", "nginx:1.27"},
                 {"app", "environment.A", "changed", std::nullopt, "x\"y"},
                 {"db", "", "no container", std::nullopt, std::nullopt}};
  auto body = StacksBody({web}, {});
  CHECK(body.find(
            R"("services":[{"name":"app","container":"web_app_1","status":"running","health":"healthy",)"
            R"("image":"nginx:1.25"},{"name":"db","container":"","status":"","health":"","image":""}])") !=
        std::string::npos);
  CHECK(body.find(R"("reasons":["app: image changed","db: no container"])") != std::string::npos);
  CHECK(
      body.find(
          R"({"service":"app","field":"image","change":"changed","old":"nginx:1.25","new":"nginx:1.27"})") !=
      std::string::npos);
  CHECK(
      body.find(R"({"service":"app","field":"environment.A","change":"changed","old":null,"new":"x\"y"})") !=
      std::string::npos);
  CHECK(body.find(R"({"service":"db","field":"","change":"no container","old":null,"new":null})") !=
        std::string::npos);
}

TEST_CASE("a shared answer serves every request taken before it began, and refuses after Stop") {
  std::atomic<int> computed{0};
  SharedAnswer shared("/test", [&] { return Answer{200, std::to_string(++computed)}; });
  std::promise<std::string> first, second;
  // Taken before the thread starts: both get the same, first, computation.
  REQUIRE(shared.Request([&](const Answer& a) { first.set_value(a.body); }));
  REQUIRE(shared.Request([&](const Answer& a) { second.set_value(a.body); }));
  shared.Start();
  CHECK(first.get_future().get() == "1");
  CHECK(second.get_future().get() == "1");
  shared.Stop();
  bool called = false;
  CHECK_FALSE(shared.Request([&](const Answer&) { called = true; }));
  CHECK_FALSE(called);
  shared.Stop();  // idempotent
}

TEST_CASE("a computation that throws is answered 500") {
  SharedAnswer shared("/test", []() -> Answer { throw std::runtime_error("boom"); });
  std::promise<Answer> got;
  REQUIRE(shared.Request([&](const Answer& a) { got.set_value(a); }));
  shared.Start();
  auto a = got.get_future().get();
  CHECK(a.status == 500);
  CHECK(a.body == R"({"error":"internal error"})");
}

TEST_CASE("a ?wait= answer: 202 while running, 500 failed, 200 otherwise") {
  state::Deployment d;
  d.id = "d-1";
  for (auto [st, code] : {std::pair{state::DeploymentState::kQueued, 202},
                          {state::DeploymentState::kRunning, 202},
                          {state::DeploymentState::kFailed, 500},
                          {state::DeploymentState::kSucceeded, 200},
                          {state::DeploymentState::kSuperseded, 200}}) {
    d.state = st;
    auto a = FinalAnswer(d);
    CHECK(a.status == code);
    CHECK(a.body == state::ToJson(d));
  }
}

TEST_CASE("waiting requests: answered when the deployment finishes, at most N, all at Stop") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  state::Deployment d;
  d.id = (*store)->NewId();
  d.state = state::DeploymentState::kRunning;
  REQUIRE((*store)->Save(d));
  WaitingAnswers waits(**store, 2);
  waits.Start();
  std::promise<int> finished, second;
  REQUIRE(waits.Add(d.id, std::chrono::seconds(60), [&](const Answer& a) { finished.set_value(a.status); }));
  REQUIRE(waits.Add(d.id, std::chrono::seconds(60), [&](const Answer& a) { second.set_value(a.status); }));
  CHECK_FALSE(waits.Add(d.id, std::chrono::seconds(60), [](const Answer&) {}));  // full
  CHECK(waits.Waiting() == 2);
  d.state = state::DeploymentState::kSucceeded;
  REQUIRE((*store)->Save(d));
  waits.Notify();
  CHECK(finished.get_future().get() == 200);
  CHECK(second.get_future().get() == 200);
  std::promise<int> at_stop;
  d.state = state::DeploymentState::kRunning;
  REQUIRE((*store)->Save(d));
  REQUIRE(waits.Add(d.id, std::chrono::seconds(60), [&](const Answer& a) { at_stop.set_value(a.status); }));
  waits.Stop();
  CHECK(at_stop.get_future().get() == 202);
  CHECK(waits.Waiting() == 0);
  CHECK_FALSE(waits.Add(d.id, std::chrono::seconds(1), [](const Answer&) {}));
}
