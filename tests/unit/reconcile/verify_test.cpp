// UnmetClaims: what a run claims, held against the containers listed after it.
#include "reconcile/verify.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::reconcile;

namespace {

core::DesiredStack Stack(const std::string& name, std::vector<std::string> services) {
  core::DesiredStack d;
  d.name = name;
  for (auto& s : services) {
    core::DesiredService ds;
    ds.name = s;
    ds.fingerprint = "f-" + s;
    d.services.push_back(ds);
  }
  return d;
}

core::ActualContainer Container(const std::string& stack, const std::string& service,
                                const std::string& status = "running") {
  core::ActualContainer c;
  c.id = "id-" + stack + "-" + service;
  c.name = stack + "_" + service + "_1";
  c.stack = stack;
  c.service = service;
  c.fingerprint = "f-" + service;
  c.status = status;
  c.running = status == "running";
  return c;
}

std::map<std::string, std::string> Unmet(const std::vector<core::DesiredStack>& desired,
                                         const std::vector<core::ActualContainer>& actual,
                                         const Claims& claims) {
  return UnmetClaims(core::Plan(desired, actual), actual, claims);
}

}  // namespace

TEST_CASE("verify: a stack whose services all run as claimed meets its claim") {
  const std::vector<core::DesiredStack> desired{Stack("web", {"a", "b"})};
  CHECK(Unmet(desired, {Container("web", "a"), Container("web", "b")}, {{"web"}, {}}).empty());
}

TEST_CASE("verify: a container left created or exited, or missing, fails the claim, naming the service") {
  const std::vector<core::DesiredStack> desired{Stack("web", {"a", "b", "c"}), Stack("other", {"x"})};
  auto a = Container("web", "a", "created");
  auto b = Container("web", "b", "exited");
  b.exit_code = 137;
  const std::vector<core::ActualContainer> actual{a, b, Container("other", "x", "stopping")};
  auto unmet = Unmet(desired, actual, {{"web"}, {}});
  REQUIRE(unmet.size() == 1);  // "other" was not claimed
  CHECK(unmet.at("web") ==
        "a: container web_a_1 is created; b: container web_b_1 is exited (exit code 137); c: no container");
  CHECK(Unmet(desired, actual, {{"other"}, {}}).at("other") == "x: container other_x_1 is stopping");
}

TEST_CASE("verify: a one-shot service that exited 0 is done") {
  auto desired = Stack("job", {"migrate"});
  desired.services[0].restart = "no";
  CHECK(Unmet({desired}, {Container("job", "migrate", "exited")}, {{"job"}, {}}).empty());
}

TEST_CASE("verify: a temporary container left by an interrupted run, or an unhealthy one, fails the claim") {
  const std::vector<core::DesiredStack> desired{Stack("web", {"a"})};
  auto next = Container("web", "a", "created");
  next.id = "id-next";
  next.name = "web_a_1_podcd-next";
  next.temporary = true;
  CHECK(Unmet(desired, {Container("web", "a"), next}, {{"web"}, {}}).at("web") ==
        "1 temporary container(s) left by an interrupted deployment");
  auto sick = Container("web", "a");
  sick.health = "unhealthy";
  CHECK(Unmet(desired, {sick}, {{"web"}, {}}).at("web") == "a: container web_a_1 is unhealthy");
  sick.health = "starting";  // no verdict yet
  CHECK(Unmet(desired, {sick}, {{"web"}, {}}).empty());
}

TEST_CASE("verify: a removed stack must be gone") {
  CHECK(Unmet({}, {}, {{}, {"old"}}).empty());
  CHECK(Unmet({}, {Container("old", "a")}, {{}, {"old"}}).at("old") ==
        "1 container(s) of the removed stack remain");
}

TEST_CASE("verify: an old container retired after the commit is reported by its run, not a failed claim") {
  const std::vector<core::DesiredStack> desired{Stack("web", {"a"})};
  auto old = Container("web", "a", "exited");
  old.id = "id-old";
  old.name = core::RetiredName("web_a_1");
  old.fingerprint = "f-old";
  old.temporary = core::IsTemporaryName(old.name);
  REQUIRE(old.temporary);
  const std::vector<core::ActualContainer> actual{Container("web", "a"), old};
  CHECK(Unmet(desired, actual, {{"web"}, {}}).empty());
  // The plan still shows it, in words that say what it is; the next run's start removes it.
  const auto plan = core::Plan(desired, actual);
  REQUIRE(plan.Find("web") != nullptr);
  CHECK(plan.Find("web")->leftovers == std::vector<std::string>{"id-old"});
  CHECK(plan.Find("web")->reasons ==
        std::vector<std::string>{"1 old container(s) kept stopped after a failed removal, to be removed"});
  // Beside a container an interrupted run left, only that one fails the claim.
  auto next = Container("web", "a", "created");
  next.id = "id-next";
  next.name = core::TemporaryName("web_a_1");
  next.temporary = true;
  CHECK(Unmet(desired, {Container("web", "a"), old, next}, {{"web"}, {}}).at("web") ==
        "1 temporary container(s) left by an interrupted deployment");
  CHECK(core::FinalName(old.name) == "web_a_1");
}
