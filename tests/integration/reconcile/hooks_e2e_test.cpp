// Lifecycle hooks on real Podman (docs/hooks.md): a hook runs as a one-shot container of its
// service's new definition, with the deployment's environment; a failing pre_deploy keeps the
// old containers, a failing post_deploy rolls the stack back; the record names the hook and
// its exit code.
#include <catch2/catch.hpp>
#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string App(const std::string& v) {
  return "services:\n  app:\n"
         "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n"
         "    environment: {V: \"" +
         v + "\"}\n";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Hook containers carry io.podcd.hook=<stack>/<hook> and must be gone after the run.
std::size_t HookContainers(Rig& rig, const std::string& stack) {
  std::size_t n = 0;
  for (const char* hook : {"check", "prepare", "pre_deploy", "post_deploy"}) {
    auto cs = rig.client().ListContainers({"io.podcd.hook=" + stack + "/" + hook});
    REQUIRE(cs.has_value());
    n += cs->size();
  }
  return n;
}

}  // namespace

TEST_CASE("a pre_deploy hook runs as the service's new definition and sees the deployment's environment",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("hookenv");
  const std::string file = "services/" + stack + "/compose.yml";
  // $$: compose interpolation leaves a literal $ for the hook's shell.
  const std::string hooks =
      "x-podcd:\n  hooks:\n    pre_deploy:\n      service: app\n"
      "      command: [sh, -c, 'echo hookenv V=$$V deploy=$$DEPLOY project=$$PROJECT "
      "stack=$$PODCD_STACK id=$$PODCD_DEPLOYMENT commit=$$PODCD_COMMIT prev=$$PODCD_PREVIOUS_COMMIT']\n"
      "      timeout: 30s\n";
  const std::string v1 = rig.Commit({{file, App("1") + hooks}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  CHECK(Contains(first.Log(), "hook pre_deploy | hookenv V=1 deploy=" + first.deployment.id +
                                  " project=" + stack + " stack=" + stack + " id=" + first.deployment.id +
                                  " commit=" + v1 + " prev="));
  CHECK(HookContainers(rig, stack) == 0);

  // The second deployment's hook runs the new definition (V=2) and names the previous commit.
  const std::string v2 = rig.Commit({{file, App("2") + hooks}}, "v2");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  CHECK(Contains(second.Log(), "hook pre_deploy | hookenv V=2 deploy=" + second.deployment.id));
  CHECK(Contains(second.Log(), "commit=" + v2 + " prev=" + v1));
  CHECK(HookContainers(rig, stack) == 0);

  // Nothing to apply: no hook runs.
  auto third = rig.Reconcile();
  INFO(third.Describe());
  REQUIRE(third.Succeeded());
  CHECK_FALSE(Contains(third.Log(), "hook pre_deploy"));
}

TEST_CASE("a failing pre_deploy hook keeps the old containers, and the record shows its exit code", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("hookpre");
  const std::string file = "services/" + stack + "/compose.yml";
  const std::string v1 = rig.Commit({{file, App("1")}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 1);

  rig.Commit({{file, App("2") + "x-podcd:\n  hooks:\n    pre_deploy:\n      service: app\n"
                                "      command: [sh, -c, 'echo migration failed >&2; exit 3']\n"}},
             "v2: a migration that fails");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  const auto* outcome = second.Stack(stack);
  REQUIRE(outcome != nullptr);
  CHECK(outcome->outcome == "failed");
  CHECK(outcome->hook == "pre_deploy");
  REQUIRE(outcome->hook_exit_code.has_value());
  CHECK(*outcome->hook_exit_code == 3);
  CHECK(Contains(outcome->hook_output, "migration failed"));
  CHECK(outcome->reason.starts_with("hook pre_deploy exited with code 3"));
  // The old container served throughout and serves on.
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Running(before.at("app")));
  for (const auto& c : rig.Containers(stack)) CHECK(Label(c, core::kLabelCommit) == v1);
  CHECK(Contains(rig.Exec(stack + "_app_1", "sh -c 'echo V=$V'").output, "V=1"));
  CHECK(HookContainers(rig, stack) == 0);
}

TEST_CASE("a failing post_deploy hook rolls the stack back", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("hookpost");
  const std::string file = "services/" + stack + "/compose.yml";
  const std::string v1 = rig.Commit({{file, App("1")}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 1);

  // The hook sees the new definition (V=2) and refuses it.
  rig.Commit({{file, App("2") + "x-podcd:\n  hooks:\n    post_deploy:\n      service: app\n"
                                "      command: [sh, -c, 'echo smoke test of V=$$V failed; exit 5']\n"}},
             "v2: a smoke test that fails");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  const auto* outcome = second.Stack(stack);
  REQUIRE(outcome != nullptr);
  CHECK(outcome->outcome == "failed");
  CHECK(outcome->hook == "post_deploy");
  REQUIRE(outcome->hook_exit_code.has_value());
  CHECK(*outcome->hook_exit_code == 5);
  CHECK(Contains(outcome->hook_output, "smoke test of V=2 failed"));
  CHECK(Contains(outcome->reason, "the stack was rolled back: app"));
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Running(before.at("app")));
  for (const auto& c : rig.Containers(stack)) {
    CHECK(Label(c, core::kLabelCommit) == v1);
    CHECK_FALSE(core::IsTemporaryName(c.name));
  }
  CHECK(Contains(rig.Exec(stack + "_app_1", "sh -c 'echo V=$V'").output, "V=1"));
  CHECK(HookContainers(rig, stack) == 0);
}
