// `podcd deploy` SIGKILLed at many points of a cold up, a recreate and a prune, on real Podman:
// one following run converges (exactly the desired containers, running, under their own names,
// on the latest commit) and a run after it changes nothing. The kill points are events, not
// sleeps: the k-th container of the stack created, of the new commit, or removed, plus a few
// milliseconds that vary from kill to kill.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

constexpr int kServices = 10;
constexpr int kKills = 20;

// kServices busybox services; each one's environment carries `version`.
std::string Compose(int version) {
  std::string out = "services:\n";
  for (int i = 1; i <= kServices; ++i) {
    out += "  s" + std::to_string(i) +
           ":\n    image: localhost/bb:1\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
           "    environment: {V: \"" +
           std::to_string(version) + "\"}\n";
  }
  return out;
}

enum class Scenario { kColdUp, kRecreate, kPrune };

const char* Name(Scenario s) {
  switch (s) {
    case Scenario::kColdUp: return "cold up";
    case Scenario::kRecreate: return "recreate";
    case Scenario::kPrune: return "prune";
  }
  return "?";
}

}  // namespace

TEST_CASE("podcd deploy killed at 20 points of cold ups, recreates and prunes: the next run converges",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.prune = true, .settle = "1s", .health_timeout = "30s"});
  const std::string stack = rig.Stack("kill");
  const std::string file = "services/" + stack + "/compose.yml";
  std::string commit = rig.Commit({{file, Compose(0)}}, "v0");
  auto up = rig.Reconcile();
  INFO(up.Describe());
  REQUIRE(up.Succeeded());

  int landed = 0;
  int kills = 0;
  bool present = true;  // whether the repository holds the stack
  bool missed = false;  // the last kill came after the deploy ended: aim earlier
  // Until kKills kills have landed mid-run: on a loaded machine a deploy can end before its kill
  // point, and a kill that lands on nothing proves nothing.
  for (int kill_no = 0; landed < kKills && kill_no < 3 * kKills; ++kill_no) {
    // prune, cold up, recreate, prune, ...: each starts from where the last one converged.
    const Scenario scenario = kill_no % 3 == 0   ? Scenario::kPrune
                              : kill_no % 3 == 1 ? Scenario::kColdUp
                                                 : Scenario::kRecreate;
    const int k = missed ? 1 : 1 + (kill_no * 7) % (kServices - 1);                   // which event
    const auto extra = std::chrono::milliseconds(missed ? 0 : (kill_no * 37) % 160);  // and a little after it
    if (scenario == Scenario::kPrune) {
      commit = rig.Commit({}, "remove the stack", {"services/" + stack});
      present = false;
    } else {
      commit = rig.Commit({{file, Compose(kill_no + 1)}}, "v" + std::to_string(kill_no + 1));
      present = true;
    }
    const std::string new_commit = commit;
    // Every other cold up is killed while its first creates are on their way to Podman.
    const bool early = scenario == Scenario::kColdUp && kill_no % 2 == 0;
    auto ready = [&]() -> bool {
      if (early) return rig.client().NetworkExists(stack + "_default").value_or(false);
      auto cs = rig.Containers(stack);
      if (scenario == Scenario::kPrune) return cs.size() <= static_cast<std::size_t>(kServices - k);
      int fresh = 0;
      for (const auto& c : cs) fresh += Label(c, core::kLabelCommit) == new_commit ? 1 : 0;
      return fresh >= k;
    };
    const pid_t pid = rig.SpawnDeploy();
    const bool killed = KillWhen(pid, ready, extra);
    ++kills;
    landed += killed ? 1 : 0;
    missed = !killed;
    INFO("kill " << kill_no << ": " << Name(scenario) << " after "
                 << (early ? "its network" : "event " + std::to_string(k)) << " + " << extra.count()
                 << " ms; the kill " << (killed ? "landed" : "came after the end"));
    INFO(rig.ReadLog());

    // One following run converges.
    auto next = rig.Cli("deploy --all-changed");
    INFO("following run:\n" << next.output);
    std::set<std::string> names, want;
    std::string wrong;
    for (const auto& c : rig.Containers(stack)) {
      names.insert(c.name);
      if (c.state != "running" || core::IsTemporaryName(c.name) || Label(c, core::kLabelCommit) != commit)
        wrong += c.name + " " + c.state + " " + Label(c, core::kLabelCommit).substr(0, 12) + "; ";
    }
    for (int i = 1; present && i <= kServices; ++i) want.insert(stack + "_s" + std::to_string(i) + "_1");
    CHECK(next.exit_code == 0);
    CHECK(wrong.empty());
    CHECK(names == want);

    // And a run after it touches nothing.
    auto still = rig.Reconcile();
    INFO("the run after:\n" << still.Describe());
    CHECK(still.Succeeded());
    CHECK(still.writes == 0);
    if (next.exit_code != 0 || !wrong.empty() || names != want || !still.Succeeded() || still.writes != 0)
      break;  // one report, not twenty
  }
  WARN(landed << " of " << kills << " kills landed while podcd deploy ran");
  CHECK(landed == kKills);
}

TEST_CASE("a container that a killed run created after the next run looked is replaced, not a failure",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s"});
  const std::string stack = rig.Stack("late");
  rig.Commit({{"services/" + stack + "/compose.yml", Compose(1)}}, "v1");
  // The killed run's create of s1 reaches Podman just after this run listed the containers.
  const std::string late = stack + "_s1_1";
  auto run = rig.Reconcile({}, [&] {
    Sh("podman create -q --name " + late + " --label " + std::string(core::kLabelStack) + "=" + stack +
       " --label " + std::string(core::kLabelService) + "=s1 localhost/bb:1 sleep 3600");
  });
  INFO(run.Describe());
  CHECK(run.Succeeded());
  CHECK(run.Log().find("s1: removed " + late + " (") != std::string::npos);
  const auto cs = rig.Containers(stack);
  CHECK(cs.size() == kServices);
  for (const auto& c : cs) {
    INFO(c.name);
    CHECK(c.state == "running");
    CHECK_FALSE(Label(c, core::kLabelFingerprint).empty());
  }
}

TEST_CASE("a run fails, naming the service, when what it left running is not running at its end", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s"});
  const std::string stack = rig.Stack("verify");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, Compose(1)}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  // s1 changes; s2 does not, and stops while the run works (a crash, a kill -9 of its process).
  std::string compose = Compose(1);
  compose.replace(compose.find("V: \"1\""), 6, "V: \"2\"");
  rig.Commit({{file, compose}}, "v2: s1 changes");
  auto run = rig.Reconcile({}, [&] { Sh("podman stop -t 0 " + stack + "_s2_1"); });
  INFO(run.Describe());
  CHECK_FALSE(run.Succeeded());
  REQUIRE(run.Stack(stack) != nullptr);
  CHECK(run.Stack(stack)->outcome == "failed");
  CHECK(run.Stack(stack)->reason.find("s2: container " + stack + "_s2_1 is exited") != std::string::npos);
  // The next run repairs it.
  auto next = rig.Reconcile();
  INFO(next.Describe());
  CHECK(next.Succeeded());
  for (const auto& c : rig.Containers(stack)) CHECK(c.state == "running");
}
