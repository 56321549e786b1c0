// reconcile::Engine end to end on a repository on disk, a scripted runtime and a fake clock: which
// stacks a trigger runs, back-off, prune, podcd's own stack, and what the record says.
#include "reconcile/engine.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "state/image_ledger.hpp"
#include "support/temp_dir.hpp"
#include "unit/reconcile/fake_runtime.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;

namespace {

// A RunContext that keeps what the engine reports.
class Record final : public RunContext {
 public:
  [[nodiscard]] std::string Id() const override { return "20261202T000000Z-0001"; }
  void Log(std::string line) override {
    std::lock_guard lock(mutex_);
    log.push_back(std::move(line));
  }
  void SetCommit(std::string c) override { commit = std::move(c); }
  void SetStackOutcome(state::StackOutcome outcome) override {
    std::lock_guard lock(mutex_);
    told.push_back(outcome.name + " " + outcome.outcome);
    stacks.push_back(std::move(outcome));
  }
  void StackStarted(const std::string& stack) override {
    std::lock_guard lock(mutex_);
    told.push_back(stack + " started");
  }
  [[nodiscard]] bool StopRequested() const override { return false; }
  void HandOver() override {}

  const state::StackOutcome* Stack(const std::string& name) const {
    for (const auto& s : stacks) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  // The first log line holding `part`, or -1.
  int Index(const std::string& part) const {
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (log[i].find(part) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }
  bool Logged(const std::string& part) const {
    for (const auto& l : log) {
      if (l.find(part) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<std::string> log;
  std::string commit;
  std::vector<state::StackOutcome> stacks;
  std::vector<std::string> told;  // "<stack> started" and "<stack> <outcome>", in order

 private:
  std::mutex mutex_;
};

struct Rig {
  test::TempDir dir;
  FakeRuntime rt;
  FakeClock clock;
  std::unique_ptr<Engine> engine;

  explicit Rig(const std::string& extra_config = "") {
    rt.images["localhost/bb:1"] = "sha-bb1";
    dir.Write("podcd.yml",
              "webhook: {secret: 0123456789abcdef0123}\nrepo: {path: " + (dir / "repo").string() +
                  "}\nstate_dir: " + (dir / "state").string() + "\n" + extra_config);
    std::filesystem::create_directories(dir / "state");
    Stack("web", "localhost/bb:1");
    Stack("api", "localhost/bb:1");
  }
  void Stack(const std::string& name, const std::string& image) {
    dir.Write("repo/services/" + name + "/compose.yml", "services:\n  site:\n    image: " + image + "\n");
  }
  // A new engine reads the configuration again, as each deployment's worker does.
  Engine& Start() {
    config::LoadOptions o;
    o.file = (dir / "podcd.yml").string();
    o.env = [](std::string_view) { return std::optional<std::string>(); };
    auto cfg = config::Load(o);
    REQUIRE(cfg);
    engine = std::make_unique<Engine>(
        std::make_shared<const config::Config>(std::move(*cfg)),
        [](const config::Config&) -> Expected<std::string> { return std::string(40, 'c'); }, rt, clock);
    return *engine;
  }
  Expected<void> Run(Record& rec, std::vector<std::string> stacks = {}) {
    state::Trigger t;
    t.kind = stacks.empty() ? state::TriggerKind::kDeployAllChanged : state::TriggerKind::kDeploy;
    t.stacks = std::move(stacks);
    return Start().Run(t, rec);
  }
};

}  // namespace

TEST_CASE("engine: a trigger naming one stack runs that stack only") {
  Rig rig;
  Record rec;
  REQUIRE(rig.Run(rec, {"web"}));
  INFO(rec.log.size());
  CHECK(rec.commit == std::string(40, 'c'));
  REQUIRE(rec.Stack("web"));
  CHECK(rec.Stack("web")->outcome == "updated");
  CHECK(rec.Stack("api") == nullptr);
  CHECK(rig.rt.ByName("web_site_1"));
  CHECK(rig.rt.ByName("api_site_1") == nullptr);

  // Without names: what changed (api), not what is in sync (web).
  Record all;
  REQUIRE(rig.Run(all));
  CHECK(all.Stack("web") == nullptr);
  REQUIRE(all.Stack("api"));
  CHECK(all.Stack("api")->outcome == "updated");

  Record again;
  REQUIRE(rig.Run(again));
  CHECK(again.stacks.empty());
  CHECK(again.Logged("nothing to do: every stack is in sync"));
}

TEST_CASE("engine: a stack the plan changes is told started before it is applied; others are not") {
  Rig rig("prune: true\n");
  rig.rt.Add("gone_site_1", "localhost/bb:1", {{"io.podcd.stack", "gone"}, {"io.podcd.service", "site"}});
  Record first;
  REQUIRE(rig.Run(first));
  for (const auto& [stack, outcome] :
       {std::pair{"web", "updated"}, {"api", "updated"}, {"gone", "removed"}}) {
    INFO(stack);
    const auto& t = first.told;
    const auto started = std::find(t.begin(), t.end(), std::string(stack) + " started");
    const auto ended = std::find(t.begin(), t.end(), std::string(stack) + " " + outcome);
    CHECK(started != t.end());
    CHECK(ended != t.end());
    CHECK(started < ended);
  }
  // Named but in sync: applied, yet its plan changes nothing, so it never starts.
  Record second;
  REQUIRE(rig.Run(second, {"web"}));
  CHECK(second.told == std::vector<std::string>{"web unchanged"});
  // A stack that fails started all the same.
  rig.Stack("api", "127.0.0.1:5000/missing:1");
  Record third;
  REQUIRE_FALSE(rig.Run(third, {"api"}));
  CHECK(third.told == std::vector<std::string>{"api started", "api failed"});
}

TEST_CASE("engine: a stack the repository does not hold is refused before anything runs") {
  Rig rig;
  Record rec;
  auto r = rig.Run(rec, {"nope"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(r.error().message == "no stack named nope in the repository");
  CHECK(rig.rt.WriteCalls() == 0);
}

TEST_CASE("engine: a failed stack is recorded, then backs off until named") {
  Rig rig;
  rig.Stack("api", "127.0.0.1:5000/missing:1");
  Record first;
  auto r = rig.Run(first);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "failed stacks: api");
  REQUIRE(first.Stack("api"));
  CHECK(first.Stack("api")->outcome == "failed");
  CHECK(first.Stack("api")->reason.find("manifest unknown") != std::string::npos);
  CHECK(first.Stack("web")->outcome == "updated");

  // The next poll: same fingerprint, so no new attempt (the memory is in the state directory).
  const auto pulls = rig.rt.Calls().size();
  Record second;
  REQUIRE(rig.Run(second));
  REQUIRE(second.Stack("api"));
  CHECK(second.Stack("api")->outcome == "backoff");
  CHECK(second.Stack("api")->reason.find("failed before at this fingerprint") != std::string::npos);
  CHECK(second.Logged("stack api backing off: "));
  for (std::size_t i = pulls; i < rig.rt.Calls().size(); ++i)
    CHECK(rig.rt.Calls()[i].find("pull") == std::string::npos);

  // Named, it is tried again at once.
  Record named;
  REQUIRE_FALSE(rig.Run(named, {"api"}));
  CHECK(named.Stack("api")->outcome == "failed");
}

TEST_CASE("engine: a stack gone from the repository is pruned only when prune is on") {
  for (const bool prune : {false, true}) {
    Rig rig(prune ? "prune: true\n" : "");
    const auto old = rig.rt.Add("gone_site_1", "localhost/bb:1",
                                {{"io.podcd.stack", "gone"}, {"io.podcd.service", "site"}});
    Record rec;
    REQUIRE(rig.Run(rec));
    if (prune) {
      REQUIRE(rec.Stack("gone"));
      CHECK(rec.Stack("gone")->outcome == "removed");
      CHECK_FALSE(rig.rt.containers.contains(old));
    } else {
      CHECK(rec.Stack("gone") == nullptr);
      CHECK(rec.Logged("stack gone is gone from the repository; kept (prune is off)"));
      CHECK(rig.rt.containers.contains(old));
    }
  }
}

TEST_CASE("engine: podcd's own stack is left alone by a podcd that does not run from it") {
  Rig rig("self: {stack: web}\n");
  Record rec;
  REQUIRE(rig.Run(rec));
  REQUIRE(rec.Stack("web"));
  CHECK(rec.Stack("web")->outcome == "skipped");
  CHECK(rec.Stack("web")->reason == "this podcd does not run in a container");
  CHECK(rig.rt.ByName("web_site_1") == nullptr);
  CHECK(rec.Stack("api")->outcome == "updated");
  // It is prepared last, though its name sorts first.
  CHECK(rec.Index("[api] plan: ") >= 0);
  CHECK(rec.Index("[api] plan: ") < rec.Index("stack web is podcd's own (self.stack)"));
}

TEST_CASE("engine: an invalid stack is reported and fails the run; the others still run") {
  Rig rig;
  rig.dir.Write("repo/services/bad/compose.yml", "services: [\n");
  Record rec;
  auto r = rig.Run(rec);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "failed stacks: bad invalid");
  REQUIRE(rec.Stack("bad"));
  CHECK(rec.Stack("bad")->outcome == "invalid");
  CHECK(rec.Stack("web")->outcome == "updated");
}

TEST_CASE("engine: a host bind is resolved with its symlinks on the host when the stack is checked") {
  test::TempDir host;
  std::filesystem::create_directories(host / "data/app");
  Rig rig("policy: {allowed_bind_roots: [" + (host / "data").string() + "]}\n");
  rig.dir.Write("repo/services/web/compose.yml",
                "services:\n  site:\n    image: localhost/bb:1\n    volumes: [\"" +
                    (host / "data/app").string() + ":/app:ro\"]\n");
  Record ok;
  REQUIRE(rig.Run(ok, {"web"}));
  REQUIRE(ok.Stack("web"));
  CHECK(ok.Stack("web")->outcome == "updated");
  // The same path, now a symlink to /etc (what a container that writes the root could make).
  std::filesystem::remove_all(host / "data/app");
  std::filesystem::create_symlink("/etc", host / "data/app");
  rig.dir.Write("repo/services/web/compose.yml",
                "services:\n  site:\n    image: localhost/bb:1\n    volumes: [\"" +
                    (host / "data/app").string() + ":/app2:ro\"]\n");
  Record refused;
  static_cast<void>(rig.Run(refused, {"web"}));
  REQUIRE(refused.Stack("web"));
  CHECK(refused.Stack("web")->outcome == "refused");
  CHECK(refused.Stack("web")->reason.find("it resolves to /etc") != std::string::npos);
  CHECK(refused.Stack("web")->reason.find("allow rule host_binds for stack web") != std::string::npos);
}

TEST_CASE("engine: a forced run recreates the named stack's services though nothing changed") {
  Rig rig;
  Record first;
  REQUIRE(rig.Run(first));
  REQUIRE(rig.rt.ByName("web_site_1"));
  const std::string web_before = rig.rt.ByName("web_site_1")->id;
  const std::string api_before = rig.rt.ByName("api_site_1")->id;

  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {"web"};
  Record plain;
  REQUIRE(rig.Start().Run(t, plain));
  CHECK(plain.Stack("web")->outcome == "unchanged");
  CHECK(rig.rt.ByName("web_site_1")->id == web_before);

  t.force = true;
  Record forced;
  REQUIRE(rig.Start().Run(t, forced));
  REQUIRE(forced.Stack("web"));
  CHECK(forced.Stack("web")->outcome == "updated");
  CHECK(forced.Logged("[web] plan: site: force recreate requested"));
  REQUIRE(rig.rt.ByName("web_site_1"));
  CHECK(rig.rt.ByName("web_site_1")->id != web_before);
  CHECK(rig.rt.ByName("web_site_1")->status == "running");
  CHECK(forced.Stack("api") == nullptr);
  CHECK(rig.rt.ByName("api_site_1")->id == api_before);
}

TEST_CASE("engine: a forced run leaves podcd's own stack as planned") {
  Rig rig("self: {stack: web}\n");
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {"web"};
  t.force = true;
  Record rec;
  REQUIRE(rig.Start().Run(t, rec));
  CHECK(rec.Logged("stack web is podcd's own (self.stack): force recreate leaves it as planned"));
  CHECK(rec.Stack("web")->outcome == "skipped");
}

TEST_CASE("engine: a sync plans every stack and touches no container") {
  Rig rig;
  state::Trigger sync;
  sync.kind = state::TriggerKind::kSync;
  Record fresh;
  REQUIRE(rig.Start().Run(sync, fresh));
  CHECK(rig.rt.WriteCalls() == 0);
  CHECK(rig.rt.containers.empty());
  CHECK(fresh.commit == std::string(40, 'c'));
  REQUIRE(fresh.stacks.size() == 2);
  CHECK(fresh.Stack("api")->outcome == "would-create");
  CHECK(fresh.Stack("web")->outcome == "would-create");
  CHECK(fresh.Logged("a deploy of every changed stack would change 2 stacks"));

  Record deployed;
  REQUIRE(rig.Run(deployed, {"web"}));
  rig.Stack("web", "localhost/bb:2");
  rig.rt.images["localhost/bb:2"] = "sha-bb2";
  const auto writes = rig.rt.WriteCalls();
  const std::string web_id = rig.rt.ByName("web_site_1")->id;
  Record plan;
  REQUIRE(rig.Start().Run(sync, plan));
  CHECK(rig.rt.WriteCalls() == writes);
  CHECK(rig.rt.ByName("web_site_1")->id == web_id);
  CHECK(plan.Stack("api")->outcome == "would-create");
  REQUIRE(plan.Stack("web"));
  CHECK(plan.Stack("web")->outcome == "would-update");
  // The plan's reasons, per service (the fake runtime keeps no field hashes: no field named).
  CHECK(plan.Stack("web")->reason == "site: fingerprint changed");
}

TEST_CASE("engine: a forced recreate goes through the health gate and is rolled back when it fails") {
  Rig rig;
  rig.dir.Write("repo/services/web/compose.yml",
                "services:\n  site:\n    image: localhost/bb:1\n"
                "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1s\n      retries: 2\n");
  Record first;
  REQUIRE(rig.Run(first, {"web"}));
  REQUIRE(rig.rt.ByName("web_site_1"));
  const std::string before = rig.rt.ByName("web_site_1")->id;

  rig.rt.health["localhost/bb:1"] = "unhealthy";  // every new container of the image fails its gate
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {"web"};
  t.force = true;
  Record forced;
  auto r = rig.Start().Run(t, forced);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "failed stacks: web");
  REQUIRE(forced.Stack("web"));
  CHECK(forced.Stack("web")->outcome == "failed");
  REQUIRE(rig.rt.ByName("web_site_1"));
  CHECK(rig.rt.ByName("web_site_1")->id == before);
  CHECK(rig.rt.ByName("web_site_1")->status == "running");
  CHECK(rig.rt.containers.size() == 1);
}

// Images that do not pile up (issue 16): the engine records what it pulled and, after a
// successful deployment, removes the stack's images older than the previous one.
TEST_CASE("engine: old images podcd pulled go after a successful deployment; the current and previous stay") {
  Rig rig;
  for (int v = 1; v <= 4; ++v)
    rig.rt.registry["reg/app:" + std::to_string(v)] = "sha-app" + std::to_string(v);
  rig.rt.images["reg/app:9"] = "sha-by-hand";  // pulled by a person: never podcd's
  auto deploy = [&](int v) {
    rig.Stack("web", "reg/app:" + std::to_string(v));
    auto rec = std::make_unique<Record>();
    auto r = rig.Run(*rec, {"web"});
    return std::pair{r.has_value(), std::move(rec)};
  };
  REQUIRE(deploy(1).first);
  auto [ok2, second] = deploy(2);
  REQUIRE(ok2);
  CHECK(second->Stack("web")->images_removed == 0);
  CHECK(rig.rt.images.contains("reg/app:1"));

  auto [ok3, third] = deploy(3);
  REQUIRE(ok3);
  INFO(Join(third->log, "\n"));
  CHECK(third->Stack("web")->images_removed == 1);
  CHECK(third->Stack("web")->image_bytes_freed == 1000);
  CHECK(third->Logged("removed image sha-app1 (reg/app:1): 1000 bytes freed"));
  CHECK_FALSE(rig.rt.images.contains("reg/app:1"));
  CHECK(rig.rt.images.contains("reg/app:2"));
  CHECK(rig.rt.images.contains("reg/app:3"));
  CHECK(rig.rt.images.contains("reg/app:9"));
  CHECK(rig.rt.images.contains("localhost/bb:1"));

  // A removal that fails is a warning; the deployment still succeeds, and the image is tried
  // again after the next one.
  rig.rt.fail_image_remove.insert("sha-app2");
  auto [ok4, fourth] = deploy(4);
  REQUIRE(ok4);
  CHECK(fourth->Stack("web")->outcome == "updated");
  CHECK(fourth->Stack("web")->images_removed == 0);
  CHECK(fourth->Logged("warning: image sha-app2 not removed: image is in use by a build"));
  CHECK(rig.rt.images.contains("reg/app:2"));
}

TEST_CASE("engine: a failed deployment removes no image, and records the one it pulled") {
  Rig rig;
  for (int v = 1; v <= 3; ++v)
    rig.rt.registry["reg/app:" + std::to_string(v)] = "sha-app" + std::to_string(v);
  rig.rt.exit_on_start["reg/app:3"] = "1";
  for (int v = 1; v <= 3; ++v) {
    rig.Stack("web", "reg/app:" + std::to_string(v));
    Record rec;
    auto r = rig.Run(rec, {"web"});
    CHECK(r.has_value() == (v < 3));
  }
  CHECK(rig.rt.images.contains("reg/app:1"));
  auto ledger = state::ReadImageLedger(state::ImageLedgerPath(rig.dir / "state"));
  REQUIRE(ledger);
  REQUIRE(ledger->at("web").at("site").size() == 3);
  CHECK(ledger->at("web").at("site").back().id == "sha-app3");
}
