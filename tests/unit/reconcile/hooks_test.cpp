// Lifecycle hooks in a stack's apply (apply.cpp, hooks.cpp): check, then prepare when check
// fails, then pre_deploy before anything is replaced, then the replacements and their gates,
// then post_deploy, whose failure rolls the stack back. Each failure names the hook and its
// exit code.
#include <catch2/catch.hpp>

#include "reconcile/apply.hpp"
#include "reconcile/hooks.hpp"
#include "support/temp_dir.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> Labels(const std::string& service, const std::string& fp) {
  return {{"io.podcd.stack", "web"}, {"io.podcd.service", service}, {"io.podcd.fingerprint", fp}};
}

core::Hook Hook(const std::string& name, std::vector<std::string> command, bool host = false) {
  core::Hook h;
  h.name = name;
  h.service = "app";
  h.command = std::move(command);
  h.host = host;
  h.timeout = 30s;
  return h;
}

struct Harness {
  FakeRuntime rt;
  FakeClock clock;
  std::vector<std::string> log;
  std::string old_app;
  StackJob job;
  Harness() {
    rt.images["localhost/app:1"] = "sha-1";
    rt.images["localhost/app:2"] = "sha-2";
    ServiceJob s;
    s.name = "app";
    s.action = core::Action::kRecreate;
    s.spec.name = "web_app_1";
    s.spec.image = "localhost/app:2";
    s.spec.labels = Labels("app", "new");
    s.spec.env = {{"DB", "postgres://db"}};
    s.spec.ports.push_back({"", 8080, 80, 1, "tcp"});
    s.spec.networks = {{"web_default", {"app"}}};
    old_app = rt.Add(s.spec.name, "localhost/app:1", Labels("app", "old"));
    s.old_containers = {old_app};
    job.name = "web";
    job.services = {s};
    job.hook_env = HookEnvironment("d-42", "web", "c0ffee", "beef");
  }
  StackResult Apply() {
    GateOptions gate;
    gate.settle = 1000ms;
    gate.timeout = 10'000ms;
    return ApplyStack(job, rt, clock, gate, [this](const std::string& l) { log.push_back(l); });
  }
  std::string Log() const {
    std::string out;
    for (const auto& l : log) out += l + "\n";
    return out;
  }
  // The removed hook container of `hook`, as it was created.
  const FakeRuntime::Container* HookContainer(const std::string& hook) const {
    for (const auto& c : rt.removed) {
      if (c.name == "web_app_1-hook-" + hook) return &c;
    }
    return nullptr;
  }
};

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "hooks: pre_deploy runs as the service's new definition with its environment, then the replacement") {
  Harness h;
  h.job.hooks = {Hook("pre_deploy", {"migrate", "--up"}), Hook("post_deploy", {"smoke"})};
  h.rt.exit_by_name["web_app_1-hook-pre_deploy"] = 0;
  h.rt.exit_by_name["web_app_1-hook-post_deploy"] = 0;
  h.rt.logs_by_name["web_app_1-hook-pre_deploy"] = "migrated 3 tables\n";
  auto r = h.Apply();
  INFO(h.Log());
  CHECK(r.ok);
  CHECK(r.hook.empty());
  const int pre = h.rt.IndexOf("create web_app_1-hook-pre_deploy");
  const int post = h.rt.IndexOf("create web_app_1-hook-post_deploy");
  REQUIRE(pre >= 0);
  REQUIRE(post >= 0);
  CHECK(pre < h.rt.IndexOf("create web_app_1_podcd-next"));
  CHECK(h.rt.IndexOf("start web_app_1_podcd-next") < post);
  // post_deploy runs before the commit: the old container goes only once it passed.
  CHECK(post < h.rt.IndexOf("remove web_app_1"));
  const auto* c = h.HookContainer("pre_deploy");
  REQUIRE(c != nullptr);
  CHECK(c->image == "localhost/app:2");
  CHECK(c->command == std::vector<std::string>{"migrate", "--up"});
  CHECK(c->env.at("DB") == "postgres://db");
  CHECK(c->env.at("PODCD_DEPLOYMENT") == "d-42");
  CHECK(c->env.at("DEPLOY") == "d-42");
  CHECK(c->env.at("PODCD_STACK") == "web");
  CHECK(c->env.at("PROJECT") == "web");
  CHECK(c->env.at("PODCD_COMMIT") == "c0ffee");
  CHECK(c->env.at("PODCD_PREVIOUS_COMMIT") == "beef");
  // Not a container of the service: Plan() would count it.
  CHECK_FALSE(c->labels.contains("io.podcd.stack"));
  CHECK(c->labels.at("io.podcd.hook") == "web/pre_deploy");
  CHECK(c->host_ports.empty());
  CHECK(Contains(h.Log(), "hook pre_deploy | migrated 3 tables"));
  CHECK(Contains(h.Log(), "hook pre_deploy exited with code 0"));
  CHECK(h.rt.containers.size() == 1);  // the hook containers are gone
}

TEST_CASE("hooks: a failing pre_deploy stops the stack before anything is replaced") {
  Harness h;
  h.job.hooks = {Hook("pre_deploy", {"migrate"})};
  h.rt.exit_by_name["web_app_1-hook-pre_deploy"] = 3;
  h.rt.logs_by_name["web_app_1-hook-pre_deploy"] = "migration 7 failed: relation exists\n";
  auto r = h.Apply();
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.outcome) == "failed");
  CHECK(r.hook == "pre_deploy");
  REQUIRE(r.hook_exit_code);
  CHECK(*r.hook_exit_code == 3);
  CHECK(Contains(r.hook_output, "migration 7 failed"));
  CHECK(r.reason.starts_with("hook pre_deploy exited with code 3"));
  CHECK(h.rt.IndexOf("create web_app_1_podcd-next") == -1);
  CHECK(h.rt.IndexOf("stop web_app_1") == -1);
  CHECK(h.rt.containers.at(h.old_app).status == "running");
  CHECK(h.rt.containers.size() == 1);
}

TEST_CASE("hooks: a failing post_deploy rolls the stack back") {
  Harness h;
  h.job.hooks = {Hook("post_deploy", {"smoke"})};
  h.rt.exit_by_name["web_app_1-hook-post_deploy"] = 1;
  auto r = h.Apply();
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.hook == "post_deploy");
  REQUIRE(r.hook_exit_code);
  CHECK(*r.hook_exit_code == 1);
  CHECK(r.reason.starts_with("hook post_deploy exited with code 1"));
  CHECK(Contains(r.reason, "the stack was rolled back: app"));
  REQUIRE(r.services.size() == 1);
  CHECK(ToString(r.services[0].outcome) == "rolled-back");
  CHECK(r.services[0].reason == "rolled back with the stack: hook post_deploy failed");
  CHECK(h.rt.containers.at(h.old_app).status == "running");
  CHECK(h.rt.ByName("web_app_1_podcd-next") == nullptr);
  CHECK(h.rt.containers.size() == 1);
}

TEST_CASE("hooks: check exits 0, so prepare does not run; check fails, so prepare runs") {
  SECTION("ready") {
    Harness h;
    h.job.hooks = {Hook("check", {"check"}), Hook("prepare", {"prepare"})};
    h.rt.exit_by_name["web_app_1-hook-check"] = 0;
    auto r = h.Apply();
    INFO(h.Log());
    CHECK(r.ok);
    CHECK(h.rt.IndexOf("create web_app_1-hook-check") >= 0);
    CHECK(h.rt.IndexOf("create web_app_1-hook-prepare") == -1);
  }
  SECTION("not ready: prepare runs, then the deployment") {
    Harness h;
    h.job.hooks = {Hook("check", {"check"}), Hook("prepare", {"prepare"})};
    h.rt.exit_by_name["web_app_1-hook-check"] = 1;
    h.rt.exit_by_name["web_app_1-hook-prepare"] = 0;
    auto r = h.Apply();
    INFO(h.Log());
    CHECK(r.ok);
    CHECK(h.rt.IndexOf("create web_app_1-hook-check") < h.rt.IndexOf("create web_app_1-hook-prepare"));
    CHECK(h.rt.IndexOf("create web_app_1-hook-prepare") < h.rt.IndexOf("create web_app_1_podcd-next"));
  }
  SECTION("a failing prepare fails the stack") {
    Harness h;
    h.job.hooks = {Hook("check", {"check"}), Hook("prepare", {"prepare"})};
    h.rt.exit_by_name["web_app_1-hook-check"] = 1;
    h.rt.exit_by_name["web_app_1-hook-prepare"] = 2;
    auto r = h.Apply();
    INFO(h.Log());
    CHECK_FALSE(r.ok);
    CHECK(r.hook == "prepare");
    CHECK(r.hook_exit_code == 2);
    CHECK(h.rt.IndexOf("create web_app_1_podcd-next") == -1);
    CHECK(h.rt.containers.at(h.old_app).status == "running");
  }
}

TEST_CASE("hooks: one past its timeout is killed and fails the stack") {
  Harness h;
  auto hook = Hook("pre_deploy", {"sleep", "inf"});
  hook.timeout = 5s;
  h.job.hooks = {hook};  // no exit scripted: it runs on
  const auto start = h.clock.Now();
  auto r = h.Apply();
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.hook == "pre_deploy");
  CHECK(Contains(r.reason, "hook pre_deploy timed out"));
  CHECK(h.clock.Now() - start >= 5s);
  CHECK(h.clock.Now() - start < 7s);
  CHECK(h.rt.IndexOf("stop web_app_1-hook-pre_deploy") >= 0);
  CHECK(h.rt.containers.size() == 1);
  CHECK(h.rt.containers.at(h.old_app).status == "running");
}

TEST_CASE("hooks: none runs when the stack has nothing to apply") {
  Harness h;
  h.job.services[0].action = core::Action::kUnchanged;
  h.job.hooks = {Hook("pre_deploy", {"migrate"}), Hook("post_deploy", {"smoke"})};
  auto r = h.Apply();
  CHECK(r.ok);
  CHECK(ToString(r.outcome) == "unchanged");
  for (const auto& c : h.rt.Calls()) CHECK_FALSE(Contains(c, "hook"));
}

TEST_CASE("hooks: a host hook runs in the stack's directory with the hook environment") {
  test::TempDir dir;
  Harness h;
  h.job.dir = dir.path().string();
  h.job.hooks = {
      Hook("pre_deploy", {"/bin/sh", "-c", "pwd; echo deploy=$DEPLOY project=$PROJECT; exit 4"}, true)};
  auto r = h.Apply();
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.hook == "pre_deploy");
  CHECK(r.hook_exit_code == 4);
  CHECK(Contains(r.hook_output, dir.path().string()));
  CHECK(Contains(r.hook_output, "deploy=d-42 project=web"));
  CHECK(h.rt.IndexOf("create web_app_1_podcd-next") == -1);
}

TEST_CASE("hooks: a hook that cannot run fails the stack, without an exit code") {
  Harness h;
  h.job.hooks = {Hook("check", {"check"}), Hook("prepare", {"prepare"})};
  // The fake removes by id only: this holder of the hook's name stays, so the create fails.
  h.rt.Add("web_app_1-hook-check", "localhost/app:1", {});
  auto r = h.Apply();
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.hook == "check");
  CHECK_FALSE(r.hook_exit_code.has_value());
  CHECK(r.reason.starts_with("hook check could not run: create:"));
  CHECK(h.rt.IndexOf("create web_app_1-hook-prepare") == -1);
  CHECK(h.rt.IndexOf("create web_app_1_podcd-next") == -1);
  CHECK(h.rt.containers.at(h.old_app).status == "running");
}
