// The self stack's part of the crash test (issue 12): podcd's own stack changed by a commit,
// its self-update SIGKILLed at several points, on real Podman. podcd updates itself only from
// inside its own container (reconcile/self_update.hpp), which the test environment cannot run
// (no podcd image), so the test drives the steps a containerised podcd would, as processes:
// - the hand-over: the files the old podcd writes before it starts the updater
//   (reconcile::WriteHandOver, as Engine::StartUpdater does), its container being the self
//   stack's service `podcd` (a busybox stand-in with a healthcheck);
// - the updater: `podcd __self-update --deployment ID`, SIGKILLed at an event of its
//   replacement (what a crash or an OOM kill of the updater container does);
// - the following run: the updater run again for the same deployment (what Podman's restart
//   policy, or AwaitUpdaterResult, does), then `podcd __close-handover` (what the podcd that
//   starts next runs before anything else);
// - the run after: a reconcile whose engine believes it runs in the self stack's container.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "e2e_fixture.hpp"
#include "reconcile/handover.hpp"
#include "worker/protocol.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

// podcd's own stack: `podcd` (the stand-in) and `side`, a service the self-update leaves alone.
std::string SelfCompose(int version) {
  return "services:\n"
         "  podcd:\n    image: localhost/bb:1\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
         "    environment: {V: \"" +
         std::to_string(version) +
         "\"}\n"
         "    healthcheck: {test: [\"CMD\", \"true\"], interval: 1s, retries: 3}\n"
         "  side:\n    image: localhost/bb:1\n    command: [\"sleep\", \"3600\"]\n    init: true\n";
}

enum class Point { kStart, kNewCreated, kOldStopped, kNewRunning, kOldRemoved, kDone };

const char* Name(Point p) {
  switch (p) {
    case Point::kStart: return "as it starts";
    case Point::kNewCreated: return "after the new podcd was created";
    case Point::kOldStopped: return "after the old podcd was stopped";
    case Point::kNewRunning: return "after the new podcd started (its gate)";
    case Point::kOldRemoved: return "after the old podcd was removed";
    case Point::kDone: return "after the rename (its end)";
  }
  return "?";
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `podcd __close-handover` as the daemon starts it: the request on its stdin.
RunResult CloseHandOver(Rig& rig, const std::string& deployment) {
  const std::string text = ReadAll(rig.config_file());
  const worker::Request request{deployment, {}, {rig.config_file().string(), text, text}, PODCD_VERSION, {}};
  const std::filesystem::path file = rig.dir() / "close-request.json";
  std::ofstream(file) << worker::EncodeRequest(request);
  return RunCommand(std::string(PODCD_BINARY) + " __close-handover < " + Quote(file.string()));
}

// The hand-over of the old podcd `container` for `commit` (what Engine::StartUpdater writes).
reconcile::HandOver HandOverFor(const std::string& stack, const std::string& commit,
                                const std::string& container, const std::string& deployment) {
  return {deployment, stack, commit, stack + "_podcd-updater", container, "", state::NowMs(), "podcd"};
}

}  // namespace

TEST_CASE("podcd's self-update killed at each step of its replacement: the next run converges", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "30s"});
  const std::string stack = rig.Stack("self");
  const std::string file = "services/" + stack + "/compose.yml";
  const std::string podcd_name = stack + "_podcd_1";
  // The first podcd container: deployed as an ordinary stack, then named podcd's own.
  std::string commit = rig.Commit({{file, SelfCompose(0)}}, "v0");
  auto up = rig.Reconcile();
  INFO(up.Describe());
  REQUIRE(up.Succeeded());
  rig.SetSelfStack(stack);
  const std::string side = rig.Ids(stack).at("side");

  // Where each kill lands: an event, and a moment after it (the gate takes some 100s of ms:
  // the later ones land in it, or between the old podcd's removal and the rename).
  const std::vector<std::pair<Point, int>> points = {
      {Point::kStart, 0},        {Point::kStart, 30},       {Point::kNewCreated, 0},
      {Point::kOldStopped, 0},   {Point::kOldStopped, 40},  {Point::kNewRunning, 0},
      {Point::kNewRunning, 40},  {Point::kNewRunning, 80},  {Point::kNewRunning, 120},
      {Point::kNewRunning, 160}, {Point::kNewRunning, 200}, {Point::kOldRemoved, 0},
      {Point::kDone, 0}};
  int landed = 0;
  for (std::size_t n = 0; n < points.size(); ++n) {
    const auto [point, extra] = points[n];
    const std::string old_id = rig.Ids(stack).at("podcd");
    commit = rig.Commit({{file, SelfCompose(static_cast<int>(n) + 1)}}, "v" + std::to_string(n + 1));
    // The old podcd syncs the commit and finds its own stack changed (a podcd on the host
    // leaves the self stack alone: this run only syncs).
    rig.SetOwnContainer("");
    auto synced = rig.Reconcile();
    INFO(synced.Describe());
    REQUIRE(synced.writes == 0);
    const std::string deployment = "selfkill-" + std::to_string(n);
    REQUIRE(reconcile::WriteHandOver(rig.state_dir(), HandOverFor(stack, commit, old_id, deployment)));

    auto ready = [&]() -> bool {
      bool old_there = false, old_running = false, new_created = false, new_running = false, temp = false;
      for (const auto& c : rig.Containers(stack)) {
        if (Label(c, core::kLabelService) != "podcd") continue;
        temp = temp || core::IsTemporaryName(c.name);
        if (c.id == old_id) {
          old_there = true;
          old_running = c.state == "running";
        } else if (Label(c, core::kLabelCommit) == commit) {
          new_created = true;
          new_running = c.state == "running";
        }
      }
      switch (point) {
        case Point::kStart: return true;
        case Point::kNewCreated: return new_created;
        case Point::kOldStopped: return old_there && !old_running;
        case Point::kNewRunning: return new_running;
        case Point::kOldRemoved: return new_created && !old_there;
        case Point::kDone: return new_created && !old_there && !temp;
      }
      return true;
    };
    const pid_t pid = rig.Spawn({"__self-update", "--deployment", deployment});
    const bool killed = KillWhen(pid, ready, std::chrono::milliseconds(extra));
    landed += killed ? 1 : 0;
    std::string left;  // what the kill left of the podcd service
    for (const auto& c : rig.Containers(stack)) {
      if (Label(c, core::kLabelService) == "podcd")
        left += " " + c.name + (c.id == old_id ? " (old) " : " (new) ") + c.state + ";";
    }
    WARN("kill " << n << " " << Name(point) << " + " << extra
                 << " ms: " << (killed ? "landed, leaving" : "came after its end:") << left);
    INFO("self-update killed " << Name(point) << " + " << extra << " ms; the kill "
                               << (killed ? "landed" : "came after its end") << ", leaving" << left);

    // Every other resumed updater is killed too, a moment after it starts (Podman restarts a
    // crashed updater twice).
    if (n % 2 == 1) {
      const pid_t again = rig.Spawn({"__self-update", "--deployment", deployment});
      const bool second = KillWhen(
          again, [] { return true; }, std::chrono::milliseconds(20 + n * 15));
      INFO("its first resumed run was killed too; that kill " << (second ? "landed" : "came after its end"));
    }
    // The following run: the updater resumed, then the next podcd closes the hand-over.
    auto resumed = rig.Cli("__self-update --deployment " + deployment);
    INFO("resumed updater:\n" << resumed.output);
    CHECK(resumed.exit_code == 0);
    auto result = reconcile::ReadHandOverResult(rig.state_dir());
    REQUIRE(result.has_value());
    REQUIRE(result->has_value());
    const reconcile::HandOverResult r = **result;
    INFO("result: ok " << r.ok << ", " << r.outcome << ": " << r.reason);
    auto closed = CloseHandOver(rig, deployment);
    INFO("__close-handover:\n" << closed.output);
    CHECK(closed.exit_code == (r.ok ? 0 : 1));
    CHECK_FALSE(std::filesystem::exists(reconcile::HandOverPath(rig.state_dir())));
    CHECK_FALSE(std::filesystem::exists(reconcile::HandOverResultPath(rig.state_dir())));

    // Converged: the new podcd, or (an interrupted update is not retried) the old one, running
    // under its name; `side` untouched; no temporary names.
    std::string wrong;
    std::set<std::string> names;
    for (const auto& c : rig.Containers(stack)) {
      names.insert(c.name);
      if (c.state != "running" || core::IsTemporaryName(c.name))
        wrong += c.name + " " + c.state + " " + Label(c, core::kLabelCommit).substr(0, 12) + "; ";
    }
    CHECK(wrong.empty());
    CHECK(names == std::set<std::string>{podcd_name, stack + "_side_1"});
    auto ids = rig.Ids(stack);
    CHECK(ids["side"] == side);
    if (r.ok) {
      // Replaced by this run, or found replaced by the killed one.
      CHECK((r.outcome == "updated" || r.outcome == "unchanged"));
    } else {
      // Put back: the very container the update started from, then a new update goes through.
      CHECK(r.outcome == "rolled-back");
      CHECK(ids["podcd"] == old_id);
      const std::string retry = deployment + "-retry";
      REQUIRE(reconcile::WriteHandOver(rig.state_dir(), HandOverFor(stack, commit, old_id, retry)));
      auto again = rig.Cli("__self-update --deployment " + retry);
      INFO("retried update:\n" << again.output);
      CHECK(again.exit_code == 0);
      CHECK(CloseHandOver(rig, retry).exit_code == 0);
      ids = rig.Ids(stack);
    }
    bool on_commit = false;
    for (const auto& c : rig.Containers(stack)) {
      if (c.name == podcd_name) on_commit = Label(c, core::kLabelCommit) == commit && c.state == "running";
    }
    CHECK(on_commit);

    // And a run after it, by the podcd now in the self stack's container, touches nothing.
    rig.SetOwnContainer(ids["podcd"]);
    auto still = rig.Reconcile();
    INFO("the run after:\n" << still.Describe());
    CHECK(still.Succeeded());
    CHECK(still.writes == 0);
    CHECK(still.Log().find("handed over") == std::string::npos);
    if (!wrong.empty() || !on_commit || !still.Succeeded() || still.writes != 0) break;  // one report
  }
  WARN(landed << " of " << points.size() << " kills landed while the updater ran");
}

TEST_CASE("a hand-over whose updater never ran (podcd killed while it handed over) blocks nothing", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "30s"});
  const std::string stack = rig.Stack("selfdead");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, SelfCompose(0)}}, "v0");
  REQUIRE(rig.Reconcile().Succeeded());
  rig.SetSelfStack(stack);
  const std::string old_id = rig.Ids(stack).at("podcd");
  const std::string commit = rig.Commit({{file, SelfCompose(1)}}, "v1");
  REQUIRE(rig.Reconcile().writes == 0);
  // Killed between writing the hand-over and starting the updater.
  REQUIRE(reconcile::WriteHandOver(rig.state_dir(), HandOverFor(stack, commit, old_id, "dead-1")));
  // The podcd that starts next closes it without a result, within a bound (not the hand-over
  // timeout of health timeout + 5 min).
  const auto t0 = std::chrono::steady_clock::now();
  auto closed = CloseHandOver(rig, "dead-1");
  INFO(closed.output);
  CHECK(closed.exit_code == 1);
  CHECK(closed.output.find("without a result") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < 60s);
  CHECK_FALSE(std::filesystem::exists(reconcile::HandOverPath(rig.state_dir())));
  CHECK(rig.Ids(stack).at("podcd") == old_id);
  CHECK(rig.Running(old_id));
  // The next update goes through.
  REQUIRE(reconcile::WriteHandOver(rig.state_dir(), HandOverFor(stack, commit, old_id, "dead-2")));
  auto update = rig.Cli("__self-update --deployment dead-2");
  INFO(update.output);
  CHECK(update.exit_code == 0);
  CHECK(CloseHandOver(rig, "dead-2").exit_code == 0);
  for (const auto& c : rig.Containers(stack)) {
    INFO(c.name);
    CHECK(c.state == "running");
    CHECK_FALSE(core::IsTemporaryName(c.name));
    if (Label(c, core::kLabelService) == "podcd") CHECK(Label(c, core::kLabelCommit) == commit);
  }
  rig.SetOwnContainer(rig.Ids(stack).at("podcd"));
  auto still = rig.Reconcile();
  INFO(still.Describe());
  CHECK(still.Succeeded());
  CHECK(still.writes == 0);
}

TEST_CASE("a podcd left under its temporary name by an updater that never came back takes its own name",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "30s"});
  const std::string stack = rig.Stack("selftemp");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, SelfCompose(0)}}, "v0");
  REQUIRE(rig.Reconcile().Succeeded());
  rig.SetSelfStack(stack);
  const std::string old_id = rig.Ids(stack).at("podcd");
  const std::string commit = rig.Commit({{file, SelfCompose(1)}}, "v1");
  REQUIRE(rig.Reconcile().writes == 0);
  REQUIRE(reconcile::WriteHandOver(rig.state_dir(), HandOverFor(stack, commit, old_id, "temp-1")));
  auto update = rig.Cli("__self-update --deployment temp-1");
  INFO(update.output);
  REQUIRE(update.exit_code == 0);
  REQUIRE(CloseHandOver(rig, "temp-1").exit_code == 0);
  // The updater was killed between removing the old podcd and the rename, and no run of it
  // followed (Podman's restarts used up): the new podcd runs under its temporary name.
  const std::string final_name = stack + "_podcd_1";
  const std::string new_id = rig.Ids(stack).at("podcd");
  Sh("podman rename " + new_id + " " + core::TemporaryName(final_name));
  rig.SetOwnContainer(new_id);
  auto run = rig.Reconcile();
  INFO(run.Describe());
  CHECK(run.Succeeded());
  bool named = false;
  for (const auto& c : rig.Containers(stack)) {
    INFO(c.name << " " << c.state);
    CHECK_FALSE(core::IsTemporaryName(c.name));
    CHECK(c.state == "running");
    named = named || (c.id == new_id && c.name == final_name);
  }
  CHECK(named);
  auto still = rig.Reconcile();
  INFO("the run after:\n" << still.Describe());
  CHECK(still.Succeeded());
  CHECK(still.writes == 0);
}
