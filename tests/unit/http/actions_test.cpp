// The actions' JSON API: each path and body to the trigger it queues, or the error it answers.
#include "http/actions.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::http;

namespace {

const StackExists kKnown = [](const std::string& s) { return s == "web" || s == "db"; };

Expected<state::Trigger> Parse(ActionKind kind, std::string_view stack = "", std::string_view body = "",
                               std::string_view type = "") {
  return ParseAction({kind, stack, type, body, "user:alice"}, kKnown);
}

}  // namespace

TEST_CASE("actions: each becomes its trigger, with the actor") {
  auto all = Parse(ActionKind::kDeployAllChanged);
  REQUIRE(all);
  CHECK(all->kind == state::TriggerKind::kDeployAllChanged);
  CHECK(all->all_changed);
  CHECK(all->stacks.empty());
  CHECK_FALSE(all->force);
  CHECK(all->actor == "user:alice");

  auto sync = Parse(ActionKind::kSync);
  REQUIRE(sync);
  CHECK(sync->kind == state::TriggerKind::kSync);
  CHECK(sync->stacks.empty());
  CHECK_FALSE(sync->pull);
  CHECK_FALSE(sync->force);

  auto redeploy = Parse(ActionKind::kRedeploy, "web");
  REQUIRE(redeploy);
  CHECK(redeploy->kind == state::TriggerKind::kRedeployAndUpdate);
  CHECK(redeploy->stacks == std::vector<std::string>{"web"});
  CHECK(redeploy->pull);
  CHECK_FALSE(redeploy->force);

  auto recreate = Parse(ActionKind::kRecreate, "db");
  REQUIRE(recreate);
  CHECK(recreate->kind == state::TriggerKind::kDeploy);
  CHECK(recreate->stacks == std::vector<std::string>{"db"});
  CHECK(recreate->force);
  CHECK_FALSE(recreate->pull);
  CHECK_FALSE(recreate->all_changed);

  CHECK(ToString(ActionKind::kDeployAllChanged) == "deploy-all-changed");
  CHECK(ToString(ActionKind::kSync) == "sync");
  CHECK(ToString(ActionKind::kRedeploy) == "redeploy");
  CHECK(ToString(ActionKind::kRecreate) == "recreate");
}

TEST_CASE("actions: the stack of /redeploy/ and /recreate/ must be named, valid and known") {
  for (auto kind : {ActionKind::kRedeploy, ActionKind::kRecreate}) {
    auto none = Parse(kind, "");
    REQUIRE_FALSE(none);
    CHECK(none.error().code == ErrorCode::kInvalidArgument);
    CHECK(none.error().message.find("no stack") != std::string::npos);
    const std::string_view bads[] = {"Web", "a/b", "../x", "web\n", std::string_view("w\0b", 3)};
    for (std::string_view bad : bads) {
      auto r = Parse(kind, bad);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::kInvalidArgument);
    }
    auto unknown = Parse(kind, "cache");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == ErrorCode::kNotFound);
    CHECK(unknown.error().message.find("cache") != std::string::npos);
  }
  // The actions on every stack ignore what follows (their routes have no {stack}).
  CHECK(Parse(ActionKind::kSync, "whatever"));
}

TEST_CASE("actions: a body may be empty, a form, or a JSON object with at most a csrf string") {
  CHECK(Parse(ActionKind::kSync, "", " \r\n"));
  CHECK(Parse(ActionKind::kSync, "", "{}"));
  CHECK(Parse(ActionKind::kSync, "", "{}", "application/json"));
  CHECK(Parse(ActionKind::kRecreate, "web", R"({"csrf":"abc"})", "application/json; charset=utf-8"));
  CHECK(Parse(ActionKind::kRecreate, "web", "csrf=abc%2Fdef", "application/x-www-form-urlencoded"));
  CHECK(Parse(ActionKind::kRecreate, "web", "csrf=abc", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"));

  auto malformed = Parse(ActionKind::kSync, "", "{", "application/json");
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().code == ErrorCode::kInvalidArgument);
  CHECK(malformed.error().message.find("malformed JSON") != std::string::npos);
  auto array = Parse(ActionKind::kSync, "", "[]", "application/json");
  REQUIRE_FALSE(array);
  CHECK(array.error().message.find("object") != std::string::npos);
  // JSON is read as JSON even under curl -d's form Content-Type.
  auto curl_d = Parse(ActionKind::kSync, "", R"({"stacks":["web"]})", "application/x-www-form-urlencoded");
  REQUIRE_FALSE(curl_d);
  CHECK(curl_d.error().message.find("unknown field") != std::string::npos);
  CHECK(Parse(ActionKind::kSync, "", "{}", "application/x-www-form-urlencoded"));
  auto unknown = Parse(ActionKind::kDeployAllChanged, "", R"({"stacks":["web"]})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("unknown field \"stacks\"") != std::string::npos);
  auto csrf_type = Parse(ActionKind::kSync, "", R"({"csrf":1})");
  REQUIRE_FALSE(csrf_type);
  CHECK(csrf_type.error().message.find("csrf") != std::string::npos);
  auto text = Parse(ActionKind::kSync, "", "deploy please", "text/plain");
  REQUIRE_FALSE(text);
  CHECK(text.error().message.find("empty, a JSON object or a form") != std::string::npos);
  // An error names a field without quoting control characters back.
  auto ctl = Parse(ActionKind::kSync, "", "{\"a\\u0001b\":true}");
  REQUIRE_FALSE(ctl);
  CHECK(ctl.error().message.find('\x01') == std::string::npos);
}
