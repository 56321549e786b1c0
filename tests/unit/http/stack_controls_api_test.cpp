#include "http/stack_controls_api.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::http;

TEST_CASE("stack controls body: JSON or form, the form's other fields ignored") {
  auto j = ParseControlBody(R"({"deployment":"20261202-140000-000001","note":"a b"})", "application/json");
  REQUIRE(j);
  CHECK(j->deployment == "20261202-140000-000001");
  CHECK(j->note == "a b");
  auto f = ParseControlBody("csrf=abc&note=disk+full%21%0A&deployment=d-1",
                            "application/x-www-form-urlencoded; charset=utf-8");
  REQUIRE(f);
  CHECK(f->deployment == "d-1");
  CHECK(f->note == "disk full!\n");
  auto empty = ParseControlBody("", "application/json");
  REQUIRE(empty);
  CHECK(empty->deployment.empty());
  for (auto [body, type] :
       {std::pair{"note=%4", "application/x-www-form-urlencoded"},
        std::pair{"note=%zz", "application/x-www-form-urlencoded"},
        std::pair{"note=%", "application/x-www-form-urlencoded"},
        std::pair{R"({"deployment":7})", "application/json"}, std::pair{"[]", "application/json"},
        std::pair{"deployment=x", "application/json"}}) {
    INFO(body);
    CHECK_FALSE(ParseControlBody(body, type));
  }
  CHECK_FALSE(ParseControlBody(R"({"note":")" + std::string(501, 'x') + R"("})", "application/json"));
}

TEST_CASE("GET /stacks: a suspended or pinned stack shows it") {
  std::vector<StackInfo> stacks(3);
  stacks[0].name = "a";
  stacks[0].state = "in-sync";
  stacks[1].name = "b";
  stacks[1].state = "changed";
  stacks[2].name = "c";
  stacks[2].state = "in-sync";
  state::StackControls controls;
  controls["a"].suspended = state::Suspension{"loopback", 0, ""};
  controls["a"].pinned = state::Pin{"d", std::string(40, 'a'), "loopback", 0};
  controls["b"].pinned = state::Pin{"d", std::string(40, 'b'), "loopback", 0};
  ApplyControls(stacks, controls);
  CHECK(stacks[0].state == "suspended");
  CHECK(stacks[1].state == "pinned");
  CHECK(stacks[1].pinned->commit == std::string(40, 'b'));
  CHECK(stacks[2].state == "in-sync");
  const std::string body = StacksBody(stacks, {});
  CHECK(
      body.find(
          R"("name":"b","commit":"","fingerprint":"","state":"pinned","last_deployment":"","services":[],"reasons":[],"changes":[],"pinned":{"deployment":"d",)") !=
      std::string::npos);
  CHECK(
      body.find(
          R"("name":"c","commit":"","fingerprint":"","state":"in-sync","last_deployment":"","services":[],"reasons":[],"changes":[]})") !=
      std::string::npos);
}

TEST_CASE("a pin needs a successful deployment that deployed the stack, with a commit") {
  state::Deployment d;
  d.id = "d1";
  d.state = state::DeploymentState::kSucceeded;
  d.commit = std::string(40, 'c');
  d.stacks = {{"web", "updated", "", 1}, {"db", "failed", "x", 1}};
  CHECK(*PinnableCommit(d, "web") == std::string(40, 'c'));
  CHECK(PinnableCommit(d, "db").error().message.find("its outcome there: failed") != std::string::npos);
  CHECK(PinnableCommit(d, "other").error().message.find("did not deploy stack other") != std::string::npos);
  d.commit.clear();
  CHECK(PinnableCommit(d, "web").error().message.find("records no commit") != std::string::npos);
  d.commit = std::string(40, 'c');
  d.state = state::DeploymentState::kSuperseded;
  CHECK(PinnableCommit(d, "web").error().message.find("is superseded, not succeeded") != std::string::npos);
}
