// Force recreate and the plan of a sync: pure functions of one plan.
#include <catch2/catch.hpp>

#include "reconcile/force.hpp"
#include "reconcile/sync_plan.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using namespace std::chrono_literals;
using core::Action;

namespace {

core::StackPlan Stack(const std::string& name, Action action, std::vector<std::string> reasons = {},
                      std::vector<core::ServicePlan> services = {}) {
  core::StackPlan s;
  s.name = name;
  s.action = action;
  s.reasons = std::move(reasons);
  s.services = std::move(services);
  return s;
}

}  // namespace

TEST_CASE("force recreate: every running service of an unchanged stack is recreated, with the reason") {
  auto sp = Stack("web", Action::kUnchanged, {},
                  {{"app", Action::kUnchanged, {}, {"c1"}}, {"db", Action::kUnchanged, {}, {"c2"}}});
  const core::StackPlan forced = ForceRecreate(sp);
  CHECK(forced.action == Action::kRecreate);
  CHECK(forced.NeedsApply());
  REQUIRE(forced.services.size() == 2);
  for (const auto& s : forced.services) {
    CHECK(s.action == Action::kRecreate);
    CHECK(s.reasons == std::vector<std::string>{std::string(kForcedReason)});
  }
  CHECK(forced.reasons ==
        std::vector<std::string>{"app: force recreate requested", "db: force recreate requested"});
  CHECK(sp.action == Action::kUnchanged);  // the input is left alone
}

TEST_CASE("force recreate: what the plan already does stays; invalid, refused and removed stacks too") {
  auto mixed = Stack("web", Action::kRecreate, {"app: image changed"},
                     {{"app", Action::kRecreate, {"image changed"}, {"c1"}},
                      {"new", Action::kCreate, {"no container"}, {}},
                      {"old", Action::kRemove, {"not in the compose file"}, {"c3"}},
                      {"cache", Action::kUnchanged, {}, {"c4"}}});
  const auto f = ForceRecreate(mixed);
  CHECK(f.action == Action::kRecreate);
  CHECK(f.services[0].reasons == std::vector<std::string>{"image changed"});
  CHECK(f.services[1].action == Action::kCreate);
  CHECK(f.services[2].action == Action::kRemove);
  CHECK(f.services[3].action == Action::kRecreate);
  for (auto a : {Action::kInvalid, Action::kRefused, Action::kRemove}) {
    auto sp = Stack("x", a, {"why"}, {{"s", Action::kUnchanged, {}, {"c"}}});
    const auto same = ForceRecreate(sp);
    CHECK(same.action == a);
    CHECK(same.services[0].action == Action::kUnchanged);
  }
}

TEST_CASE("sync plan: every stack with what a deploy of every changed stack would do, and why") {
  core::PlanResult p;
  p.stacks = {
      Stack("api", Action::kRecreate, {"site: image changed", "site: environment.FOO changed"},
            {{"site", Action::kRecreate, {"image changed"}, {"c1"}}}),
      Stack("bad", Action::kInvalid, {"compose.yml:3:1: unknown key"}),
      Stack("db", Action::kUnchanged, {}, {{"db", Action::kUnchanged, {}, {"c2"}}}),
      Stack("fresh", Action::kCreate, {"web: no container"}, {{"web", Action::kCreate, {}, {}}}),
      Stack("gone", Action::kRemove, {"stack removed from the repository"},
            {{"site", Action::kRemove, {}, {"c3"}}}),
      Stack("open", Action::kRefused, {"web: privileged: true is not allowed"}),
      Stack("retry", Action::kRecreate, {"x: fingerprint changed"}, {{"x", Action::kRecreate, {}, {"c5"}}})};
  p.stacks[2].leftovers = {};
  SelectRequest r;
  r.named = {"db"};  // ignored: a sync plans every stack
  r.backing_off = {{"retry", 30'000ms}};
  auto planned = PlanEveryStack(p, r);
  REQUIRE(planned.size() == 7);
  std::string got;
  for (const auto& s : planned) got += s.name + ":" + std::string(ToString(s.outcome)) + " ";
  CHECK(got ==
        "api:would-update bad:invalid db:unchanged fresh:would-create gone:kept open:refused retry:backoff ");
  CHECK(planned[0].reason == "site: image changed; site: environment.FOO changed");
  CHECK(planned[1].reason == "compose.yml:3:1: unknown key");
  CHECK(planned[4].reason.find("prune is off") != std::string::npos);
  CHECK(planned[6].reason.find("failed before at this fingerprint") != std::string::npos);

  r.prune = true;
  planned = PlanEveryStack(p, r);
  CHECK(ToString(planned[4].outcome) == "would-remove");

  // Leftovers of an interrupted run are work, though every service is in sync.
  p.stacks[2].leftovers = {"c9"};
  planned = PlanEveryStack(p, r);
  CHECK(ToString(planned[2].outcome) == "would-clean-up");
}
