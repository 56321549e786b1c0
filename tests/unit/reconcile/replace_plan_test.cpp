// ReplacePlan, CreatePlan and NamespaceGroups: the steps of a change, as a string per plan.
#include "reconcile/replace_plan.hpp"

#include <catch2/catch.hpp>

using namespace podcd::reconcile;

namespace {

// One word per step: the op, ~ for a temporary name, # for unlisted (without the service's
// aliases), @ for joining the new owner, the member, and what a failure means: ! rolls back,
// x fails (nothing to undo), nothing warns.
std::string Render(const std::vector<Step>& steps) {
  static const char* const kOps[] = {"create",  "start",      "started",  "gate",       "defer",
                                     "gap",     "disconnect", "stop-old", "remove-old", "rename",
                                     "cleanup", "start-old",  "alias"};
  std::string out;
  for (const auto& s : steps) {
    if (!out.empty()) out += " ";
    out += kOps[static_cast<int>(s.op)];
    if (s.temporary) out += "~";
    if (s.unlisted) out += "#";
    if (s.join_owner) out += "@";
    out += std::to_string(s.member);
    if (s.on_error == OnError::kRollback) out += "!";
    if (s.on_error == OnError::kFail) out += "x";
  }
  return out;
}

ReplaceTarget Target(const std::string& name, bool ports = false, bool shares = false) {
  return {name, ports, shares};
}

}  // namespace

TEST_CASE("replace plan: one service, by what it holds") {
  struct Row {
    const char* name;
    ReplaceTarget target;
    std::string steps;
  };
  const Row rows[] = {
      {"nothing held: the new one is gated while the old one serves", Target("site"),
       "create~#0x start0! gap0 started0 gate0! alias0! disconnect0 stop-old0 remove-old0! rename0"},
      {"a host port: the old one stops first", Target("site", true),
       "create~0x stop-old0 start0! gap0 started0 gate0! remove-old0! rename0"},
      {"a shared namespace: the old one stops first", Target("app", false, true),
       "create~0x stop-old0 start0! gap0 started0 gate0! remove-old0! rename0"},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    const auto plan = ReplacePlan(r.target, {});
    CHECK(Render(plan.steps) == r.steps);
    CHECK(Render(plan.rollback) == "cleanup0 start-old0");
    CHECK(plan.replaces);
    CHECK(plan.rollback_log == r.target.service + ": rolled back to the old container");
    CHECK(plan.steps[0].what == "create");
    CHECK(plan.steps[0].kept == " (old container kept)");
  }
}

TEST_CASE("replace plan: the reasons a failed step gives") {
  const auto plan = ReplacePlan(Target("site"), {});
  std::string whats;
  for (const auto& s : plan.steps) {
    if (s.on_error != OnError::kWarn) whats += s.what + (s.with_logs ? "+logs" : "") + ";";
  }
  CHECK(whats == "create;start+logs;gate+logs;aliases;remove old container;");
}

TEST_CASE("create plan: a new service is gated unless nobody waits on it") {
  CHECK(Render(CreatePlan(Target("site"), false).steps) == "create0x start0! started0 gate0!");
  CHECK(Render(CreatePlan(Target("site"), true).steps) == "create0x start0! started0 defer0");
  const auto plan = CreatePlan(Target("site"), false);
  CHECK_FALSE(plan.replaces);  // a failure is `failed`, not `rolled-back`
  CHECK(Render(plan.rollback) == "cleanup0");
  CHECK(plan.rollback_log.empty());
}

TEST_CASE("replace plan: a namespace owner and its joiners as one group") {
  const auto one = ReplacePlan(Target("tunnel", true), {Target("app", false, true)});
  CHECK(
      Render(one.steps) ==
      "create~0x stop-old1 stop-old0 start0! gate0! create~@1! start1! gate1! gap0 remove-old1! remove-old0! "
      "rename0 rename1");
  // Back: the new joiner, then the new owner go; the old owner starts before its joiner.
  CHECK(Render(one.rollback) == "cleanup1 cleanup0 start-old0 start-old1");
  CHECK(one.rollback_log == "tunnel and the services in its namespaces: rolled back to the old containers");
  CHECK(one.steps[0].what == "create tunnel");
  CHECK(one.steps[0].kept == " (old containers kept)");

  const auto two = ReplacePlan(Target("tunnel"), {Target("a", false, true), Target("b", false, true)});
  CHECK(Render(two.steps) ==
        "create~0x stop-old1 stop-old2 stop-old0 start0! gate0! create~@1! start1! gate1! create~@2! start2! "
        "gate2! gap0 remove-old1! remove-old2! remove-old0! rename0 rename1 rename2");
  CHECK(Render(two.rollback) == "cleanup2 cleanup1 cleanup0 start-old0 start-old1 start-old2");
}

TEST_CASE("replace plan: a failing joiner rolls the whole group back, named in the reason") {
  const auto plan = ReplacePlan(Target("tunnel"), {Target("app", false, true)});
  std::vector<std::string> joiner;
  for (const auto& s : plan.steps) {
    if (s.member == 1 && s.on_error != OnError::kWarn) {
      CHECK(s.on_error == OnError::kRollback);
      joiner.push_back(s.what);
    }
  }
  CHECK(joiner == std::vector<std::string>{"app create", "app start", "app gate", "remove old container"});
}

TEST_CASE("namespace groups: who is replaced with whom") {
  struct Row {
    const char* name;
    std::vector<std::string> names;
    std::vector<bool> recreate, work;
    std::vector<std::vector<std::string>> joins;
    std::string groups;  // "owner:joiner,joiner;..."
  };
  const Row rows[] = {
      {"owner and joiner both change",
       {"app", "tunnel"},
       {true, true},
       {true, true},
       {{"tunnel"}, {}},
       "1:0;"},
      {"only the joiner changes", {"app", "tunnel"}, {true, false}, {true, false}, {{"tunnel"}, {}}, ""},
      {"the owner is new (created, not recreated)",
       {"app", "tunnel"},
       {false, false},
       {true, true},
       {{"tunnel"}, {}},
       ""},
      {"a joiner that is created joins the group",
       {"app", "tunnel"},
       {false, true},
       {true, true},
       {{"tunnel"}, {}},
       "1:0;"},
      {"two joiners",
       {"a", "b", "tunnel"},
       {true, true, true},
       {true, true, true},
       {{"tunnel"}, {"tunnel"}, {}},
       "2:0,1;"},
      {"unrelated services", {"a", "b"}, {true, true}, {true, true}, {{}, {}}, ""},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    std::string out;
    for (const auto& g : NamespaceGroups(r.names, r.recreate, r.work, r.joins)) {
      out += std::to_string(g.owner) + ":";
      for (std::size_t k = 0; k < g.joiners.size(); ++k) out += (k ? "," : "") + std::to_string(g.joiners[k]);
      out += ";";
    }
    CHECK(out == r.groups);
  }
}
