// The dashboard's actions end to end on real Podman: a forced recreate of an unchanged stack,
// and a sync that records a plan without touching a container (issue 14). In-process through
// the engine and the work queue, and through the podcd binary (`deploy --force-recreate`,
// `sync`), whose records name the actor "cli".
#include <catch2/catch.hpp>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string HttpdService(const std::string& extra = "") {
  return "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n" +
         extra;
}

std::string CurlWhenUp(std::uint16_t port, const std::string& want) {
  std::string got;
  for (int i = 0; i < 50; ++i) {
    auto r = RunCommand("curl -s --max-time 5 http://127.0.0.1:" + std::to_string(port) + "/");
    got = r.output;
    if (got.find(want) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return got;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The newest deployment record in the state directory.
state::Deployment Newest(const std::filesystem::path& state_dir) {
  auto store = state::Store::Open(state_dir);
  REQUIRE(store);
  auto list = (*store)->List(1);
  REQUIRE(list.size() == 1);
  return list.front();
}

}  // namespace

TEST_CASE("force recreate of an unchanged stack: new containers that keep serving; then nothing to do",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("forced");
  const std::string other = rig.Stack("bystander");
  const std::uint16_t port = FreeLoopbackPorts();
  REQUIRE(port != 0);
  const std::string ports = "    ports: [\"127.0.0.1:" + std::to_string(port) + ":8080\"]\n";
  rig.Commit({{"services/" + stack + "/compose.yml",
               "services:\n  web:\n" + HttpdService(ports) + "  side:\n" + HttpdService()},
              {"services/" + other + "/compose.yml", "services:\n  web:\n" + HttpdService()}},
             "stacks");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 2);
  const auto bystander = rig.Ids(other);

  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {stack};
  t.force = true;
  t.actor = "user:alice";
  auto forced = rig.Reconcile(t);
  INFO(forced.Describe());
  REQUIRE(forced.Succeeded());
  REQUIRE(forced.Stack(stack));
  CHECK(forced.Stack(stack)->outcome == "updated");
  CHECK(forced.Stack(other) == nullptr);
  CHECK(forced.deployment.trigger.actor == "user:alice");
  CHECK(forced.deployment.trigger.force);
  CHECK(Contains(forced.Log(), "force recreate requested"));
  const auto after = rig.Ids(stack);
  REQUIRE(after.size() == 2);
  for (const auto& service : {"web", "side"}) {
    INFO(service);
    CHECK(after.at(service) != before.at(service));
    CHECK(rig.Running(after.at(service)));
  }
  CHECK(rig.Ids(other) == bystander);
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));

  // The new containers carry the repository's fingerprints: the next reconcile does nothing.
  auto next = rig.Reconcile();
  INFO(next.Describe());
  CHECK(next.Succeeded());
  CHECK(next.writes == 0);
  CHECK(rig.Ids(stack) == after);

  // The CLI in-process: a deployment whose actor is "cli", new containers again.
  auto cli = rig.Cli("deploy --force-recreate " + stack);
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  const auto again = rig.Ids(stack);
  CHECK(again.at("web") != after.at("web"));
  CHECK(again.at("side") != after.at("side"));
  CHECK(rig.Running(again.at("web")));
  const auto record = Newest(rig.state_dir());
  CHECK(record.trigger.actor == "cli");
  CHECK(record.trigger.force);
  CHECK(record.state == state::DeploymentState::kSucceeded);
  // Without stacks it is refused: there is nothing named to recreate.
  CHECK(rig.Cli("deploy --force-recreate").exit_code == 2);
}

TEST_CASE("sync fetches and records the plan of every stack, and changes no container", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("synced");
  const std::string added = rig.Stack("added");
  const std::string dir = "services/" + stack + "/";
  rig.Commit({{dir + "compose.yml", "services:\n  web:\n" + HttpdService("    environment: [X=1]\n")}},
             "one");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);

  const std::string head =
      rig.Commit({{dir + "compose.yml", "services:\n  web:\n" + HttpdService("    environment: [X=2]\n")},
                  {"services/" + added + "/compose.yml", "services:\n  web:\n" + HttpdService()}},
                 "X=2 and a new stack");
  state::Trigger sync;
  sync.kind = state::TriggerKind::kSync;
  sync.actor = "token:t1:ci";
  auto planned = rig.Reconcile(sync);
  INFO(planned.Describe());
  REQUIRE(planned.Succeeded());
  CHECK(planned.writes == 0);
  CHECK(planned.deployment.commit == head);  // fetched
  CHECK(planned.deployment.trigger.kind == state::TriggerKind::kSync);
  CHECK(planned.deployment.trigger.actor == "token:t1:ci");
  REQUIRE(planned.Stack(stack));
  CHECK(planned.Stack(stack)->outcome == "would-update");
  CHECK(Contains(planned.Stack(stack)->reason, "environment.X changed"));
  REQUIRE(planned.Stack(added));
  CHECK(planned.Stack(added)->outcome == "would-create");
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Running(before.at("web")));
  CHECK(rig.Containers(added).empty());
  auto x = rig.Exec(stack + "_web_1", "sh -c 'echo $X'");
  CHECK(Contains(x.output, "1"));

  // The CLI in-process: the same plan, printed, with the actor "cli"; still nothing changed.
  auto cli = rig.Cli("sync");
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  CHECK(Contains(cli.output, "would-update"));
  CHECK(Contains(cli.output, "would-create"));
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Containers(added).empty());
  const auto record = Newest(rig.state_dir());
  CHECK(record.trigger.kind == state::TriggerKind::kSync);
  CHECK(record.trigger.actor == "cli");

  // What the plan said is what a deploy does.
  auto deployed = rig.Reconcile();
  INFO(deployed.Describe());
  REQUIRE(deployed.Succeeded());
  CHECK(deployed.Stack(stack)->outcome == "updated");
  CHECK(deployed.Stack(added)->outcome == "updated");
  CHECK(rig.Ids(stack).at("web") != before.at("web"));
}
