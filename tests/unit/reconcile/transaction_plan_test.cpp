// The stack transaction's pure parts: where each plan's commit starts, and the stack's verdict.
#include <catch2/catch.hpp>

#include "reconcile/replace_plan.hpp"

using namespace podcd::reconcile;

namespace {

std::string Ops(const ReplacementPlan& plan, std::size_t from) {
  static const char* const kOps[] = {"create",  "start",      "started",  "gate",       "defer",
                                     "gap",     "disconnect", "stop-old", "remove-old", "rename",
                                     "cleanup", "start-old",  "alias"};
  std::string out;
  for (std::size_t i = from; i < plan.steps.size(); ++i)
    out += (out.empty() ? "" : " ") + std::string(kOps[static_cast<int>(plan.steps[i].op)]) +
           std::to_string(plan.steps[i].member);
  return out;
}

}  // namespace

TEST_CASE("transaction plan: a change's commit is what follows its gates, the old containers' end") {
  SECTION("nothing held: the old one serves until the commit, which takes it off, stops and removes it") {
    const auto plan = ReplacePlan({"site", false, false}, {});
    CHECK(Ops(plan, plan.commit) == "disconnect0 stop-old0 remove-old0 rename0");
    // The gated new container takes the service's names before the commit, beside the old one.
    CHECK(plan.steps[plan.commit - 1].op == StepOp::kAlias);
    CHECK(plan.steps[plan.commit - 2].op == StepOp::kGate);
  }
  SECTION("a host port: the old one waits stopped; the commit removes it") {
    const auto plan = ReplacePlan({"site", true, false}, {});
    CHECK(Ops(plan, plan.commit) == "remove-old0 rename0");
  }
  SECTION("a namespace group: the gap is measured before the commit") {
    const auto plan = ReplacePlan({"vpn", false, false}, {{"app", false, true}});
    CHECK(Ops(plan, plan.commit) == "remove-old1 remove-old0 rename0 rename1");
    CHECK(plan.steps[plan.commit - 1].op == StepOp::kMarkGap);
  }
  SECTION("a new service has nothing to commit: rolled back, it is removed") {
    for (bool defer : {false, true}) {
      const auto plan = CreatePlan({"site", false, false}, defer);
      CHECK(plan.commit == plan.steps.size());
      REQUIRE(plan.rollback.size() == 1);
      CHECK(plan.rollback[0].op == StepOp::kCleanupNew);
    }
  }
}

TEST_CASE("transaction plan: the commit is the longest tail of finishing steps") {
  auto step = [](StepOp op) {
    Step s;
    s.op = op;
    return s;
  };
  CHECK(CommitIndex({}) == 0);
  CHECK(CommitIndex({step(StepOp::kGate)}) == 1);
  CHECK(CommitIndex({step(StepOp::kStopOld), step(StepOp::kStart), step(StepOp::kRemoveOld)}) == 2);
  CHECK(CommitIndex({step(StepOp::kRemoveOld), step(StepOp::kRename)}) == 0);
  CHECK(Finishes(StepOp::kDisconnect));
  CHECK_FALSE(Finishes(StepOp::kStartOld));
  CHECK_FALSE(Finishes(StepOp::kMarkGap));
}

TEST_CASE("transaction plan: the stack commits only when no service failed") {
  const std::vector<std::string> names{"a", "b", "c", "d"};
  using O = ServiceOutcome;
  auto ok = JudgeStack(names, {O::kRecreated, O::kCreated, O::kUnchanged, O::kRemoved});
  CHECK(ok.commit);
  CHECK(ok.failed.empty());
  auto bad = JudgeStack(names, {O::kRecreated, O::kRolledBack, O::kCreated, O::kSkipped});
  CHECK_FALSE(bad.commit);
  CHECK(bad.failed == std::vector<std::string>{"b", "d"});
  CHECK(RolledBackWith(bad, true) == "rolled back with the stack: b, d failed");
  CHECK(RolledBackWith(JudgeStack({"x"}, {O::kFailed}), false) == "removed with the stack: x failed");
  CHECK(JudgeStack({"k"}, {O::kKept}).commit);  // a kept service fails nothing
}
