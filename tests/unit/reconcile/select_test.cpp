// SelectStacks: which stacks a trigger works on, table-driven over one plan.
#include "reconcile/select.hpp"

#include <catch2/catch.hpp>

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

// api changed, db is in sync, gone left the repository, bad is invalid, pod is podcd's own.
core::PlanResult Plan(Action pod_service = Action::kUnchanged) {
  core::PlanResult p;
  p.stacks = {Stack("api", Action::kRecreate, {"site: image changed"},
                    {{"site", Action::kRecreate, {"image changed"}, {"c1"}}}),
              Stack("bad", Action::kInvalid, {"compose.yml:3:1: unknown key", "x"}),
              Stack("db", Action::kUnchanged, {}, {{"db", Action::kUnchanged, {}, {"c2"}}}),
              Stack("gone", Action::kRemove, {}, {{"site", Action::kRemove, {}, {"c3"}}}),
              Stack("pod", pod_service == Action::kUnchanged ? Action::kUnchanged : Action::kRecreate, {},
                    {{"podcd", pod_service, {}, {"0123456789abcdef"}}})};
  return p;
}

// "name:kind" for each choice, kinds as words; self marked *, a hand-over marked ^.
std::string Render(const std::vector<StackChoice>& choices) {
  static const char* const kKinds[] = {"invalid", "kept", "apply", "prune", "backoff", "skip", "suspended"};
  std::string out;
  for (const auto& c : choices) {
    out += (out.empty() ? "" : " ") + c.plan->name + ":" + kKinds[static_cast<int>(c.kind)];
    if (c.self) out += "*";
    if (c.hand_over) out += "^";
  }
  return out;
}

struct Request {
  std::vector<std::string> named = {};
  bool update_images = false;
  bool prune = false;
  std::string self = {};
  std::string own_container = {};
  std::map<std::string, std::chrono::milliseconds> backing_off = {};
  std::map<std::string, std::string> suspended = {};
  operator SelectRequest() const {  // NOLINT(google-explicit-constructor): table rows read better
    return SelectRequest{named, update_images, prune, self, own_container, backing_off, suspended};
  }
};

}  // namespace

TEST_CASE("select: which stacks run, which are reported, in what order") {
  struct Row {
    const char* name;
    Request request;
    Action pod_service;
    std::string reported, run;
  };
  const std::map<std::string, std::chrono::milliseconds> api_waits{{"api", 42'500ms}};
  const Row rows[] = {
      {"every change", Request{}, Action::kUnchanged, "bad:invalid gone:kept", "api:apply"},
      {"prune on", {.prune = true}, Action::kUnchanged, "bad:invalid", "api:apply gone:prune"},
      {"one stack named, though unchanged", {.named = {"db"}}, Action::kUnchanged, "", "db:apply"},
      {"named twice", {.named = {"db", "db"}}, Action::kUnchanged, "", "db:apply"},
      {"named invalid", {.named = {"bad"}}, Action::kUnchanged, "bad:invalid", ""},
      {"update images: every stack",
       {.update_images = true},
       Action::kUnchanged,
       "bad:invalid gone:kept",
       "api:apply db:apply pod:apply"},
      {"backing off", {.backing_off = api_waits}, Action::kUnchanged, "bad:invalid gone:kept", "api:backoff"},
      {"named: no back-off",
       {.named = {"api"}, .backing_off = api_waits},
       Action::kUnchanged,
       "",
       "api:apply"},
      {"a pruned stack never backs off",
       {.prune = true, .backing_off = {{"gone", 1s}}},
       Action::kUnchanged,
       "bad:invalid",
       "api:apply gone:prune"},
      {"own stack, native podcd: skipped, last",
       {.named = {"pod", "api"}, .self = "pod"},
       Action::kUnchanged,
       "",
       "api:apply pod:skip*"},
      {"own stack, this podcd one of its containers, unchanged",
       {.named = {"pod", "api"}, .self = "pod", .own_container = "0123456789ab"},
       Action::kUnchanged,
       "",
       "api:apply pod:apply*"},
      {"own stack changed: handed over",
       {.self = "pod", .own_container = "0123456789abcdef0000"},
       Action::kRecreate,
       "bad:invalid gone:kept",
       "api:apply pod:apply*^"},
      {"own stack, images updated: handed over",
       {.named = {"pod"}, .update_images = true, .self = "pod", .own_container = "0123456789ab"},
       Action::kUnchanged,
       "",
       "pod:apply*^"},
      {"own stack pruned: not self",
       {.prune = true, .self = "gone"},
       Action::kUnchanged,
       "bad:invalid",
       "api:apply gone:prune"},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    const auto plan = Plan(r.pod_service);
    const Selection s = SelectStacks(plan, r.request);
    CHECK_FALSE(s.unknown);
    CHECK(Render(s.reported) == r.reported);
    CHECK(Render(s.run) == r.run);
  }
}

TEST_CASE("select: the reasons it gives") {
  const auto plan = Plan();
  auto s = SelectStacks(plan, Request{.backing_off = {{"api", 42'500ms}}});
  REQUIRE(s.run.size() == 1);
  CHECK(s.run[0].reason ==
        "failed before at this fingerprint; retried when it changes, on an explicit redeploy, or in 42 s");
  REQUIRE(s.reported.size() == 2);
  CHECK(s.reported[0].reason == "compose.yml:3:1: unknown key; x");

  auto native = SelectStacks(plan, Request{.named = {"pod"}, .self = "pod"});
  CHECK(native.run[0].reason == "this podcd does not run in a container");
  auto other =
      SelectStacks(plan, Request{.named = {"pod"}, .self = "pod", .own_container = "fedcba9876543210ff"});
  CHECK(other.run[0].kind == StackChoice::Kind::kSkip);
  CHECK(other.run[0].reason == "this podcd's container fedcba987654 is not one of its");
}

TEST_CASE("select: a named stack the repository does not hold") {
  const auto plan = Plan();
  auto s = SelectStacks(plan, Request{.named = {"zzz", "api", "nope"}});
  REQUIRE(s.unknown);
  CHECK(*s.unknown == "nope");  // the first in name order
  CHECK(s.run.empty());
  CHECK(s.reported.empty());
}

TEST_CASE("select: nothing changed, nothing runs") {
  core::PlanResult p;
  p.stacks = {Stack("db", Action::kUnchanged)};
  auto s = SelectStacks(p, SelectRequest{});
  CHECK(s.run.empty());
  CHECK(s.reported.empty());
}

TEST_CASE("schedule: a stack using a network as external waits for the stack creating it") {
  struct Row {
    const char* name;
    std::vector<StackNetworks> stacks;
    std::vector<std::size_t> order;
    std::vector<std::vector<std::size_t>> after;
  };
  const Row rows[] = {
      {"independent stacks keep their order", {{{"a_default"}, {}}, {{"b_default"}, {}}}, {0, 1}, {{}, {}}},
      {"apps before their proxy wait for it",
       {{{}, {"proxy"}}, {{"proxy"}, {}}, {{}, {}}},
       {1, 0, 2},
       {{}, {0}, {}}},
      {"a stack using its own network waits for nobody", {{{"net"}, {"net"}}}, {0}, {{}}},
      {"a cycle runs in the given order, the later after the earlier",
       {{{"x"}, {"y"}}, {{"y"}, {"x"}}},
       {0, 1},
       {{}, {0}}},
      {"nobody creates the external network", {{{}, {"elsewhere"}}}, {0}, {{}}},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    const StackSchedule s = ScheduleStacks(r.stacks);
    CHECK(s.order == r.order);
    CHECK(s.after == r.after);
  }
}

TEST_CASE("select: a suspended stack is reported, never run, whatever asks") {
  const auto plan = Plan();
  const std::map<std::string, std::string> suspended = {{"api", "suspended by loopback"},
                                                        {"gone", "suspended by loopback"}};
  SECTION("every changed stack") {
    auto s = SelectStacks(plan, Request{.prune = true, .suspended = suspended});
    CHECK(Render(s.run) == "");
    CHECK(Render(s.reported) == "api:suspended bad:invalid gone:suspended");
    CHECK(s.reported[0].reason == "suspended by loopback");
    CHECK(s.refused_suspended.empty());
  }
  SECTION("images pulled for every stack") {
    auto s = SelectStacks(plan, Request{.update_images = true, .suspended = suspended});
    CHECK(Render(s.run) == "db:apply pod:apply");
  }
  SECTION("named: refused") {
    auto s = SelectStacks(plan, Request{.named = {"api", "db"}, .suspended = suspended});
    CHECK(Render(s.run) == "db:apply");
    CHECK(s.refused_suspended == std::vector<std::string>{"api"});
  }
}
