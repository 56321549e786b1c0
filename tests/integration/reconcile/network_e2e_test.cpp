// Networks with their own subnet on real Podman: a service at a fixed address, another OCI
// runtime named (allowed when the host's Podman knows it), a changed subnet making the network again with its
// containers, and a plan note for what has no meaning on a server.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A /24 of its own per test process: another test environment on this host may have its
// bridges up at the same time, and two bridges with one subnet break each other's routes.
std::string Subnet(int which) {
  return "172." + std::to_string(20 + which) + "." + std::to_string(getpid() % 250 + 1) + ".";
}

std::string Compose(const std::string& net) {
  return "services:\n"
         "  web:\n"
         "    image: localhost/bb:1\n"
         "    command: [\"sleep\", \"3600\"]\n"
         "    init: true\n"
         "    runtime: runc\n"
         "    develop: {watch: [{action: sync, path: ./src, target: /src}]}\n"
         "    networks:\n"
         "      lan:\n"
         "        ipv4_address: " +
         net +
         "10\n"
         "  app:\n"
         "    image: localhost/bb:1\n"
         "    command: [\"sleep\", \"3600\"]\n"
         "    init: true\n"
         "    networks: [lan]\n"
         "networks:\n"
         "  lan:\n"
         "    ipam:\n"
         "      config:\n"
         "        - subnet: " +
         net +
         "0/24\n"
         "          ip_range: " +
         net +
         "128/25\n"
         "          gateway: " +
         net + "1\n";
}

std::string Inspect(const std::string& what, const std::string& format) {
  auto r = RunCommand("podman inspect --format '" + format + "' " + what);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("a fixed subnet and address, runtime runc; a changed subnet makes the network again", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("ipam");
  const std::string dir = "services/" + stack + "/";
  const std::string net1 = Subnet(0), net2 = Subnet(1);
  rig.Commit({{dir + "compose.yml", Compose(net1)}}, "ipam");

  // The plan names what it ignores.
  auto plan = rig.Cli("plan");
  INFO(plan.output);
  CHECK(
      Contains(plan.output, "note: services.web.develop: ignored (compose watch has no meaning on a server"));

  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  const std::string network = stack + "_lan";
  const std::string web = stack + "_web_1", app = stack + "_app_1";
  CHECK(Inspect(web, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}") == net1 + "10");
  CHECK(Inspect(web, "{{.OCIRuntime}}") == "runc");
  CHECK(Inspect("--type network " + network, "{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}") ==
        net1 + "0/24 " + net1 + "1");
  // Addresses Podman hands out come from ip_range.
  const std::string app_ip = Inspect(app, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
  CHECK(app_ip.starts_with(net1));
  CHECK(std::stoi(app_ip.substr(net1.size())) >= 129);
  const auto before = rig.Ids(stack);

  // Nothing changed: nothing written (the network's label matches).
  auto again = rig.Reconcile();
  INFO(again.Describe());
  REQUIRE(again.Succeeded());
  CHECK(again.writes == 0);

  // A new subnet: the network is made again, both services on it recreated.
  rig.Commit({{dir + "compose.yml", Compose(net2)}}, "new subnet");
  auto moved = rig.Reconcile();
  INFO(moved.Describe());
  REQUIRE(moved.Succeeded());
  CHECK(Contains(moved.Log(), "network " + network + " changed: made again"));
  CHECK(Inspect("--type network " + network, "{{range .Subnets}}{{.Subnet}}{{end}}") == net2 + "0/24");
  CHECK(Inspect(web, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}") == net2 + "10");
  CHECK(Inspect(app, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}").starts_with(net2));
  const auto after = rig.Ids(stack);
  CHECK(after.at("web") != before.at("web"));
  CHECK(after.at("app") != before.at("app"));
  CHECK(rig.Running(after.at("web")));
  CHECK(rig.Running(after.at("app")));
  // The new containers reach each other on the new network.
  auto ping = rig.Exec(app, "ping -c 1 -W 2 " + net2 + "10");
  INFO(ping.output);
  CHECK(ping.exit_code == 0);
}

// policy.allowed_runtimes unset: the runtimes the host's Podman knows. The testenv's
// containers.conf adds podcd-test-runc (runc under another name), which podcd's built-in list
// lacks: the daemon's plan and deployment accept it, offline check-config cannot know it.
TEST_CASE("unset policy.allowed_runtimes: the host's runtimes are allowed, others refused with the list",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string known = rig.Stack("rtknown"), unknown = rig.Stack("rtunknown");
  rig.Commit({{"services/" + known + "/compose.yml",
               "services:\n  a:\n    image: localhost/bb:1\n    command: [\"sleep\", \"3600\"]\n"
               "    init: true\n    runtime: podcd-test-runc\n"},
              {"services/" + unknown + "/compose.yml",
               "services:\n  a:\n    image: localhost/bb:1\n    runtime: nvidia\n"}},
             "runtimes");
  auto plan = rig.Cli("plan");  // syncs the work tree check-config reads
  INFO(plan.output);
  CHECK(Contains(plan.output,
                 "service a: runtime: nvidia is refused by policy (allowed: runc, crun, kata, krun, "
                 "podcd-test-runc, runj, runsc, from the runtimes the host's Podman knows (its "
                 "containers.conf); policy.allowed_runtimes sets the list)"));
  CHECK_FALSE(Contains(plan.output, "runtime: podcd-test-runc is refused"));

  auto run = rig.Reconcile();
  INFO(run.Describe());
  const auto ids = rig.Ids(known);
  REQUIRE(ids.count("a") == 1);
  CHECK(rig.Running(ids.at("a")));
  CHECK(rig.Ids(unknown).empty());

  // Offline, no Podman asked: the built-in list, and it says so.
  auto check = rig.Cli("check-config");
  INFO(check.output);
  CHECK(check.exit_code != 0);
  CHECK(Contains(check.output,
                 "runtimes: runc, crun, crun-wasm, kata, runsc, youki, krun (from podcd's "
                 "built-in list, no Podman was asked; the daemon asks the host's Podman)"));
  CHECK(Contains(check.output,
                 "service a: runtime: podcd-test-runc is refused by policy (allowed: runc, crun, crun-wasm, "
                 "kata, runsc, youki, krun, from podcd's built-in list, no Podman was asked;"));
}

TEST_CASE("a changed subnet whose service fails its gate: the old network and containers come back",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("ipamback");
  const std::string dir = "services/" + stack + "/";
  const std::string net1 = Subnet(2), net2 = Subnet(3);
  rig.Commit({{dir + "compose.yml", Compose(net1)}}, "ipam");
  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  const auto before = rig.Ids(stack);
  const std::string network = stack + "_lan";
  const std::string web = stack + "_web_1", app = stack + "_app_1";

  // The new web exits at once: the stack rolls back, network included.
  std::string broken = Compose(net2);
  const std::string sleep = "command: [\"sleep\", \"3600\"]";
  broken.replace(broken.find(sleep), sleep.size(), "command: [\"sh\", \"-c\", \"exit 3\"]");
  rig.Commit({{dir + "compose.yml", broken}}, "new subnet, broken web");
  auto failed = rig.Reconcile();
  INFO(failed.Describe());
  CHECK_FALSE(failed.Succeeded());
  CHECK(Contains(failed.Log(), "network " + network + " restored as it was"));
  CHECK(Inspect("--type network " + network, "{{range .Subnets}}{{.Subnet}}{{end}}") == net1 + "0/24");
  const auto after = rig.Ids(stack);
  CHECK(after.at("web") == before.at("web"));
  CHECK(after.at("app") == before.at("app"));
  CHECK(rig.Running(after.at("web")));
  CHECK(rig.Running(after.at("app")));
  CHECK(Inspect(web, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}") == net1 + "10");
  auto ping = rig.Exec(app, "ping -c 1 -W 2 " + net1 + "10");
  INFO(ping.output);
  CHECK(ping.exit_code == 0);
  // By name too: the aliases came back with the containers.
  auto by_name = rig.Exec(app, "ping -c 1 -W 2 web");
  INFO(by_name.output);
  CHECK(by_name.exit_code == 0);
}
