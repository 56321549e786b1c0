#include "reconcile/apply.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> Labels(const std::string& stack, const std::string& service,
                                          const std::string& fp = "f1") {
  return {{"io.podcd.stack", stack}, {"io.podcd.service", service}, {"io.podcd.fingerprint", fp}};
}

ServiceJob Job(const std::string& stack, const std::string& service, core::Action action,
               const std::string& image = "localhost/bb:1") {
  ServiceJob s;
  s.name = service;
  s.action = action;
  s.spec.name = stack + "_" + service + "_1";
  s.spec.image = image;
  s.spec.labels = Labels(stack, service, "f2");
  return s;
}

podman::NetworkCreate Net(const std::string& name) {
  podman::NetworkCreate n;
  n.name = name;
  return n;
}

podman::VolumeCreate Vol(const std::string& name) {
  podman::VolumeCreate v;
  v.name = name;
  return v;
}

GateOptions FastGate() {
  GateOptions g;
  g.settle = 1000ms;
  g.timeout = 10'000ms;
  return g;
}

struct Harness {
  FakeRuntime rt;
  FakeClock clock;
  std::vector<std::string> log;
  Harness() {
    rt.images["localhost/bb:1"] = "sha-bb1";
    rt.registry["localhost/bb:1"] = "sha-bb1";
  }
  StackResult Apply(const StackJob& job, GateOptions gate = FastGate()) {
    return ApplyStack(job, rt, clock, gate, [this](const std::string& l) { log.push_back(l); });
  }
  std::string Log() const {
    std::string out;
    for (const auto& l : log) out += l + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("create: missing images are pulled first, then network, volume, create, start, gate") {
  Harness h;
  h.rt.images.clear();
  StackJob job{
      "web", {Job("web", "site", core::Action::kCreate)}, {Net("web_default")}, {}, {Vol("web_data")}, false};
  auto r = h.Apply(job);
  INFO(h.Log());
  CHECK(r.ok);
  CHECK(ToString(r.outcome) == "updated");
  REQUIRE(r.services.size() == 1);
  CHECK(ToString(r.services[0].outcome) == "created");
  CHECK(h.rt.IndexOf("pull localhost/bb:1") < h.rt.IndexOf("network create web_default"));
  CHECK(h.rt.IndexOf("volume create web_data") < h.rt.IndexOf("create web_site_1"));
  CHECK(h.rt.IndexOf("create web_site_1") < h.rt.IndexOf("start web_site_1"));
  REQUIRE(h.rt.ByName("web_site_1"));
  CHECK(h.rt.ByName("web_site_1")->status == "running");
}

TEST_CASE("an unchanged stack makes zero write calls") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kUnchanged);
  s.old_containers = {old};
  StackJob job{"web", {s}, {Net("web_default")}, {}, {}, false};
  auto r = h.Apply(job);
  CHECK(r.ok);
  CHECK(ToString(r.outcome) == "unchanged");
  CHECK(r.write_calls == 0);
  CHECK(h.rt.WriteCalls() == 0);
}

TEST_CASE("a bad image tag fails the stack before anything stops") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate, "127.0.0.1:5000/bb:nope");
  s.old_containers = {old};
  StackJob job{"web", {s}, {}, {}, {}, false};
  auto r = h.Apply(job);
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.outcome) == "failed");
  CHECK(r.reason.find("manifest unknown") != std::string::npos);
  CHECK(r.reason.find("127.0.0.1:5000/bb:nope") != std::string::npos);
  CHECK(h.rt.IndexOf("stop web_site_1") == -1);
  CHECK(h.rt.IndexOf("create web_site_1_podcd-next") == -1);
  CHECK(h.rt.containers.at(old).status == "running");
}

TEST_CASE("an alias-only service is replaced with no gap: new started and gated before the old stops") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.reasons = {"environment.FOO changed"};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "recreated");
  CHECK(r.services[0].gap_ms == 0);
  CHECK(h.rt.IndexOf("start web_site_1_podcd-next") < h.rt.IndexOf("stop web_site_1"));
  CHECK(h.rt.IndexOf("stop web_site_1") < h.rt.IndexOf("remove web_site_1"));
  CHECK(h.rt.IndexOf("remove web_site_1") < h.rt.IndexOf("rename web_site_1_podcd-next web_site_1"));
  CHECK_FALSE(h.rt.containers.contains(old));
  REQUIRE(h.rt.ByName("web_site_1"));
  CHECK(h.rt.ByName("web_site_1")->labels.at("io.podcd.fingerprint") == "f2");
  CHECK(h.Log().find("because environment.FOO changed") != std::string::npos);
}

TEST_CASE("a service holding a host port stops the old container first and records the gap") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.publishes_host_ports = true;
  s.spec.ports = {{"", 8080, 80, 1, "tcp"}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(h.rt.IndexOf("stop web_site_1") < h.rt.IndexOf("start web_site_1_podcd-next"));
  CHECK(r.services[0].gap_ms >= 0);
  CHECK(h.Log().find("(gap ") != std::string::npos);
}

TEST_CASE("a new container that fails its healthcheck is rolled back; the old one serves again") {
  Harness h;
  h.rt.images["localhost/bb:bad"] = "sha-bad";
  h.rt.health["localhost/bb:bad"] = "unhealthy";
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto s = Job("web", "site", core::Action::kRecreate, "localhost/bb:bad");
  s.old_containers = {old};
  s.publishes_host_ports = true;
  s.has_healthcheck = true;
  s.health_interval = 1s;
  s.spec.ports = {{"", 8080, 80, 1, "tcp"}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "rolled-back");
  CHECK(r.reason.find("healthcheck unhealthy (3 checks in a row): connection refused") != std::string::npos);
  CHECK(r.reason.find("fatal: config missing") != std::string::npos);  // the failing container's logs
  CHECK(h.rt.ByName("web_site_1_podcd-next") == nullptr);
  CHECK(h.rt.containers.at(old).status == "running");
  CHECK(h.rt.IndexOf("start web_site_1") > h.rt.IndexOf("stop web_site_1"));
}

TEST_CASE(
    "a container that exits during the settle time is rolled back (zero-downtime path keeps old running)") {
  Harness h;
  h.rt.images["localhost/crash:1"] = "sha-crash";
  h.rt.exit_on_start["localhost/crash:1"] = "3";
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate, "localhost/crash:1");
  s.old_containers = {old};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "rolled-back");
  CHECK(r.services[0].gap_ms == 0);
  CHECK(r.reason.find("exited with code 3") != std::string::npos);
  CHECK(h.rt.IndexOf("stop web_site_1") == -1);  // never stopped
  CHECK(h.rt.containers.at(old).status == "running");
}

TEST_CASE("a stop request in the gate rolls the replacement back at once; the old one serves again") {
  Harness h;
  auto gate = FastGate();
  gate.settle = 60'000ms;
  gate.timeout = 120'000ms;
  const auto t0 = h.clock.Now();
  // podcd is asked to stop once the new container has been watched for 2 s.
  gate.stopping = [&h, t0] { return h.clock.Now() - t0 > 2s; };
  auto old_port = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto old_alias = h.rt.Add("web_api_1", "localhost/bb:1", Labels("web", "api"));
  auto site = Job("web", "site", core::Action::kRecreate);
  site.old_containers = {old_port};
  site.publishes_host_ports = true;
  site.spec.ports = {{"", 8080, 80, 1, "tcp"}};
  auto api = Job("web", "api", core::Action::kRecreate);
  api.old_containers = {old_alias};
  auto r = h.Apply({"web", {site, api}, {}, {}, {}, false}, gate);
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  for (const auto& s : r.services) {
    CHECK(ToString(s.outcome) == "rolled-back");
    CHECK(s.reason.find("podcd is stopping") != std::string::npos);
  }
  CHECK(h.clock.Now() - t0 < 10s);  // not the 60 s settle time
  CHECK(h.rt.ByName("web_site_1_podcd-next") == nullptr);
  CHECK(h.rt.ByName("web_api_1_podcd-next") == nullptr);
  CHECK(h.rt.containers.at(old_port).status == "running");
  CHECK(h.rt.containers.at(old_alias).status == "running");
}

TEST_CASE("a host port held by a foreign container: Podman's reason is reported and the old one restarts") {
  Harness h;
  h.rt.Add("someone-else", "localhost/bb:1", {}, {9090});
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.publishes_host_ports = true;
  s.spec.ports = {{"", 9090, 80, 1, "tcp"}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  CHECK_FALSE(r.ok);
  CHECK(r.reason.find("address already in use") != std::string::npos);
  CHECK(h.rt.containers.at(old).status == "running");
}

TEST_CASE("depends_on service_healthy: the dependent starts only after the dependency's gate") {
  Harness h;
  auto db = Job("app", "db", core::Action::kCreate);
  db.has_healthcheck = true;
  db.health_interval = 1s;
  auto api = Job("app", "api", core::Action::kCreate);
  api.depends_on = {{"db", DependencyCondition::kHealthy}};
  auto r = h.Apply({"app", {api, db}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(r.ok);
  auto calls = h.rt.Calls();
  int last_health = -1;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i] == "health") last_health = static_cast<int>(i);
  }
  CHECK(last_health >= 0);
  CHECK(h.rt.IndexOf("create app_api_1") > h.rt.IndexOf("start app_db_1"));
  CHECK(h.rt.IndexOf("create app_api_1") > last_health);
}

TEST_CASE("a failed dependency skips its dependents; nothing of theirs is created") {
  Harness h;
  h.rt.images["localhost/crash:1"] = "sha-crash";
  h.rt.exit_on_start["localhost/crash:1"] = "1";
  auto db = Job("app", "db", core::Action::kCreate, "localhost/crash:1");
  auto api = Job("app", "api", core::Action::kCreate);
  api.depends_on = {{"db", DependencyCondition::kHealthy}};
  auto r = h.Apply({"app", {db, api}, {}, {}, {}, false});
  CHECK_FALSE(r.ok);
  CHECK(h.rt.IndexOf("create app_api_1") == -1);
  bool skipped = false;
  for (const auto& s : r.services) {
    if (s.name == "api") skipped = ToString(s.outcome) == "skipped" && s.reason == "dependency db failed";
  }
  CHECK(skipped);
  CHECK(h.rt.ByName("app_db_1") == nullptr);  // the failed new container is removed
}

TEST_CASE("service_completed_successfully waits for exit 0") {
  Harness h;
  h.rt.images["localhost/migrate:1"] = "sha-m";
  h.rt.exit_on_start["localhost/migrate:1"] = "0";
  auto migrate = Job("app", "migrate", core::Action::kCreate, "localhost/migrate:1");
  auto api = Job("app", "api", core::Action::kCreate);
  api.depends_on = {{"migrate", DependencyCondition::kCompletedSuccessfully}};
  auto r = h.Apply({"app", {migrate, api}, {}, {}, {}, false});
  INFO(h.Log());
  CHECK(r.ok);
  CHECK(h.rt.IndexOf("create app_api_1") > h.rt.IndexOf("start app_migrate_1"));

  Harness h2;
  h2.rt.images["localhost/migrate:1"] = "sha-m";
  h2.rt.exit_on_start["localhost/migrate:1"] = "2";
  auto r2 = h2.Apply({"app", {migrate, api}, {}, {}, {}, false});
  CHECK_FALSE(r2.ok);
  CHECK(h2.rt.IndexOf("create app_api_1") == -1);
  CHECK(r2.reason.find("exited with code 2") != std::string::npos);
}

TEST_CASE("redeploy-and-update recreates only services whose image id changed") {
  Harness h;
  h.rt.images["reg.test/bb:1"] = "sha-bb1";
  h.rt.images["reg.test/other:1"] = "sha-o";
  h.rt.registry["reg.test/other:1"] = "sha-o";
  h.rt.registry["reg.test/bb:1"] = "sha-bb2";  // a new image pushed under the same tag
  auto site_old = h.rt.Add("web_site_1", "reg.test/bb:1", Labels("web", "site"));
  auto side_old = h.rt.Add("web_side_1", "reg.test/other:1", Labels("web", "side"));
  auto site = Job("web", "site", core::Action::kUnchanged, "reg.test/bb:1");
  site.old_containers = {site_old};
  auto side = Job("web", "side", core::Action::kUnchanged, "reg.test/other:1");
  side.old_containers = {side_old};
  auto r = h.Apply({"web", {site, side}, {}, {}, {}, true});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(h.rt.IndexOf("pull reg.test/bb:1") >= 0);
  CHECK(h.rt.IndexOf("pull reg.test/other:1") >= 0);
  CHECK(h.rt.ByName("web_site_1")->image_id == "sha-bb2");
  CHECK(h.rt.containers.contains(side_old));  // untouched
  CHECK(h.rt.IndexOf("create web_side_1_podcd-next") == -1);
}

// Found by the e2e suite: pull-always of a localhost/ image asks https://localhost and fails.
TEST_CASE("redeploy-and-update does not pull localhost/ images; a new local build still recreates") {
  Harness h;
  h.rt.registry.clear();  // no registry serves localhost/ images
  auto site_old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  h.rt.images["localhost/app:1"] = "sha-app1";
  auto app_old = h.rt.Add("web_app_1", "localhost/app:1", Labels("web", "app"));
  h.rt.images["localhost/app:1"] = "sha-app2";  // rebuilt locally under the same tag
  auto site = Job("web", "site", core::Action::kUnchanged);
  site.old_containers = {site_old};
  auto app = Job("web", "app", core::Action::kUnchanged, "localhost/app:1");
  app.old_containers = {app_old};
  auto r = h.Apply({"web", {site, app}, {}, {}, {}, true});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(h.rt.containers.contains(site_old));
  CHECK(h.rt.IndexOf("create web_site_1_podcd-next") == -1);
  CHECK_FALSE(h.rt.containers.contains(app_old));
  REQUIRE(h.rt.ByName("web_app_1"));
  CHECK(h.rt.ByName("web_app_1")->image_id == "sha-app2");
}

// Found by the e2e suite: a stopped container keeps its DNS names until Podman's cleanup,
// so clients resolving the alias were refused for a moment.
TEST_CASE("an alias-only replacement takes the old container off its networks before stopping it") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.spec.networks = {{"web_default", {"site"}}, {"web_back", {}}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(r.ok);
  const int gated = h.rt.IndexOf("start web_site_1_podcd-next");
  const int off1 = h.rt.IndexOf("disconnect web_site_1 web_default");
  const int off2 = h.rt.IndexOf("disconnect web_site_1 web_back");
  const int stop = h.rt.IndexOf("stop web_site_1");
  CHECK(gated >= 0);
  CHECK(gated < off1);
  CHECK(off1 >= 0);
  CHECK(off2 >= 0);
  CHECK(off1 < stop);
  CHECK(off2 < stop);

  // A host-port service stops the old one first; nothing to drain.
  Harness p;
  auto pold = p.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto ps = Job("web", "site", core::Action::kRecreate);
  ps.old_containers = {pold};
  ps.publishes_host_ports = true;
  ps.spec.ports = {{"", 8080, 80, 1, "tcp"}};
  ps.spec.networks = {{"web_default", {"site"}}};
  REQUIRE(p.Apply({"web", {ps}, {}, {}, {}, false}).ok);
  CHECK(p.rt.IndexOf("disconnect web_site_1 web_default") == -1);
}

// Found by the probe test (integration_reconcile): Podman's DNS answers a container's aliases
// from its start, so clients were sent to the new container before its server listened and
// were refused. It is created without them and takes them once gated, before the old one
// leaves; and it answers its final name, which a rename does not give it in Podman's DNS.
TEST_CASE("an alias-only replacement gives the new container the service's aliases only after its gate") {
  Harness h;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.spec.networks = {{"web_default", {"site", "www"}}, {"web_back", {"site"}}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(r.ok);
  const auto& created = h.rt.created_networks.at("web_site_1_podcd-next");
  REQUIRE(created.size() == 2);
  CHECK(created[0].name == "web_default");
  CHECK(created[0].aliases.empty());
  CHECK(created[1].aliases.empty());
  const int start = h.rt.IndexOf("start web_site_1_podcd-next");
  const int listed1 = h.rt.IndexOf("aliases web_site_1_podcd-next web_default site,www,web_site_1");
  const int listed2 = h.rt.IndexOf("aliases web_site_1_podcd-next web_back site,web_site_1");
  const int off = h.rt.IndexOf("disconnect web_site_1 web_default");
  CHECK(start >= 0);
  CHECK(start < listed1);
  CHECK(listed1 < listed2);
  CHECK(listed2 < off);

  // A host-port service: the old one is gone before the new one starts, so the new one has its
  // aliases (and its final name) from the start.
  Harness p;
  auto pold = p.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {8080});
  auto ps = Job("web", "site", core::Action::kRecreate);
  ps.old_containers = {pold};
  ps.publishes_host_ports = true;
  ps.spec.ports = {{"", 8080, 80, 1, "tcp"}};
  ps.spec.networks = {{"web_default", {"site"}}};
  REQUIRE(p.Apply({"web", {ps}, {}, {}, {}, false}).ok);
  const auto& pcreated = p.rt.created_networks.at("web_site_1_podcd-next");
  REQUIRE(pcreated.size() == 1);
  CHECK(pcreated[0].aliases == std::vector<std::string>{"site", "web_site_1"});
  CHECK(p.rt.IndexOf("aliases web_site_1_podcd-next web_default site,web_site_1") == -1);
}

// A new container that cannot take the aliases is removed; the old one never stopped serving.
TEST_CASE("an alias-only replacement whose new container cannot take the aliases rolls back") {
  Harness h;
  h.rt.fail_aliases = true;
  auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  auto s = Job("web", "site", core::Action::kRecreate);
  s.old_containers = {old};
  s.spec.networks = {{"web_default", {"site"}}};
  auto r = h.Apply({"web", {s}, {}, {}, {}, false});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "rolled-back");
  CHECK(r.services[0].reason.find("aliases: ") == 0);
  CHECK(h.rt.IndexOf("stop web_site_1") == -1);
  CHECK(h.rt.containers.at(old).status == "running");
  CHECK_FALSE(h.rt.ByName("web_site_1_podcd-next"));
}

// Found by bench/reconcile.sh: a slot was held through the settle time, so a cold up of 30
// services took 8 settle times. Real clock: the gate lasts 500 ms, ample for the other
// thread to get its turn.
TEST_CASE("services wait in their gates concurrently; max_parallel bounds only the Podman operations") {
  Harness h;
  auto a_old = h.rt.Add("web_a_1", "localhost/bb:1", Labels("web", "a"));
  auto b_old = h.rt.Add("web_b_1", "localhost/bb:1", Labels("web", "b"));
  auto a = Job("web", "a", core::Action::kRecreate);
  a.old_containers = {a_old};
  auto b = Job("web", "b", core::Action::kRecreate);
  b.old_containers = {b_old};
  GateOptions gate = FastGate();
  // Real clock: b must start while a waits out its settle time; 3 s is a wide margin for a
  // loaded or sanitized CI machine.
  gate.settle = 3000ms;
  gate.poll = 50ms;
  gate.max_parallel = 1;
  std::vector<std::string> log;
  auto r = ApplyStack({"web", {a, b}, {}, {}, {}, false}, h.rt, RealClock(), gate,
                      [&log](const std::string& l) { log.push_back(l); });
  REQUIRE(r.ok);
  // Both new containers run before either old one is stopped (the end of a gate).
  const int a_started = h.rt.IndexOf("start web_a_1_podcd-next");
  const int b_started = h.rt.IndexOf("start web_b_1_podcd-next");
  const int first_stop = std::min(h.rt.IndexOf("stop web_a_1"), h.rt.IndexOf("stop web_b_1"));
  CHECK(a_started >= 0);
  CHECK(b_started >= 0);
  CHECK(a_started < first_stop);
  CHECK(b_started < first_stop);
}

TEST_CASE("services removed from the compose file go only when the rest succeeded") {
  Harness h;
  auto orphan = h.rt.Add("web_old_1", "localhost/bb:1", Labels("web", "old"));
  ServiceJob gone;
  gone.name = "old";
  gone.action = core::Action::kRemove;
  gone.old_containers = {orphan};
  auto r = h.Apply({"web", {Job("web", "site", core::Action::kCreate), gone}, {}, {}, {}, false});
  CHECK(r.ok);
  CHECK_FALSE(h.rt.containers.contains(orphan));

  Harness h2;
  h2.rt.images["localhost/crash:1"] = "sha-crash";
  h2.rt.exit_on_start["localhost/crash:1"] = "1";
  auto orphan2 = h2.rt.Add("web_old_1", "localhost/bb:1", Labels("web", "old"));
  gone.old_containers = {orphan2};
  auto r2 = h2.Apply(
      {"web", {Job("web", "site", core::Action::kCreate, "localhost/crash:1"), gone}, {}, {}, {}, false});
  CHECK_FALSE(r2.ok);
  CHECK(h2.rt.containers.contains(orphan2));
}

TEST_CASE("a VPN sidecar and the service in its namespace both removed from the compose file both go") {
  // The owner is listed first: Podman refuses to remove it while the joiner exists.
  Harness h;
  auto tunnel = h.rt.Add("web_tunnel_1", "localhost/bb:1", Labels("web", "tunnel"));
  auto app = h.rt.Add("web_app_1", "localhost/bb:1", Labels("web", "app"));
  h.rt.containers[app].network_mode = "container:" + tunnel;
  ServiceJob owner;
  owner.name = "tunnel";
  owner.action = core::Action::kRemove;
  owner.old_containers = {tunnel};
  ServiceJob joiner;
  joiner.name = "app";
  joiner.action = core::Action::kRemove;
  joiner.old_containers = {app};
  auto r = h.Apply({"web", {Job("web", "site", core::Action::kCreate), owner, joiner}, {}, {}, {}, false});
  INFO(h.Log());
  CHECK(r.ok);
  CHECK_FALSE(h.rt.containers.contains(app));
  CHECK_FALSE(h.rt.containers.contains(tunnel));
  CHECK(h.Log().find("warning") == std::string::npos);
}

TEST_CASE("interrupted deployments are recovered: leftovers removed, finished, or the old one restarted") {
  FakeRuntime rt;
  rt.images["localhost/bb:1"] = "sha";
  // 1. Killed after creating the new container: old still running, leftover removed.
  rt.Add("a_s_1", "localhost/bb:1", Labels("a", "s"));
  rt.Add("a_s_1_podcd-next", "localhost/bb:1", Labels("a", "s", "f2"));
  // 2. Killed after removing the old one: the new one is finished (renamed).
  rt.Add("b_s_1_podcd-next", "localhost/bb:1", Labels("b", "s", "f2"));
  // 3. Killed after stopping the old one: leftover removed and the old one restarted.
  auto c_old = rt.Add("c_s_1", "localhost/bb:1", Labels("c", "s"), {}, false);
  rt.Add("c_s_1_podcd-next", "localhost/bb:1", Labels("c", "s", "f2"));
  auto done = RecoverTemporaries(*rt.ListManaged(), rt);
  CHECK(done.size() == 4);
  CHECK(rt.ByName("a_s_1_podcd-next") == nullptr);
  CHECK(rt.ByName("a_s_1") != nullptr);
  CHECK(rt.ByName("b_s_1") != nullptr);
  CHECK(rt.ByName("b_s_1_podcd-next") == nullptr);
  CHECK(rt.ByName("c_s_1_podcd-next") == nullptr);
  CHECK(rt.containers.at(c_old).status == "running");
}

TEST_CASE("recovery never stops or removes the container of the podcd that runs it") {
  // A new podcd left under its temporary name by an updater that vanished (the old podcd is
  // stopped): stopping it would leave the host without any podcd.
  FakeRuntime rt;
  rt.images["localhost/podcd:2"] = "sha";
  auto old = rt.Add("podcd_podcd_1", "localhost/podcd:2", Labels("podcd", "podcd"), {}, false);
  auto self = rt.Add("podcd_podcd_1_podcd-next", "localhost/podcd:2", Labels("podcd", "podcd", "f2"));
  auto done = RecoverTemporaries(*rt.ListManaged(), rt, self.substr(0, 12));
  CHECK(rt.containers.contains(self));
  CHECK(rt.containers.at(self).status == "running");
  CHECK(rt.containers.at(old).status != "running");
  REQUIRE(done.size() == 1);
  CHECK(done[0].find("left alone") != std::string::npos);
}

TEST_CASE("a podcd left under its temporary name, its old container gone, takes its final name") {
  // The updater was killed between removing the old podcd and the rename, and never ran again:
  // renaming does not stop the container, and without it the self stack is skipped for ever
  // ("this podcd's container is not one of its").
  FakeRuntime rt;
  rt.images["localhost/podcd:2"] = "sha";
  auto self = rt.Add("podcd_podcd_1_podcd-next", "localhost/podcd:2", Labels("podcd", "podcd", "f2"));
  auto done = RecoverTemporaries(*rt.ListManaged(), rt, self.substr(0, 12));
  REQUIRE(rt.containers.contains(self));
  CHECK(rt.containers.at(self).status == "running");
  CHECK(rt.ByName("podcd_podcd_1") != nullptr);
  CHECK(rt.ByName("podcd_podcd_1_podcd-next") == nullptr);
  REQUIRE(done.size() == 1);
  CHECK(done[0] == "finished podcd_podcd_1_podcd-next as podcd_podcd_1 (this podcd runs in it)");
}

TEST_CASE("a removed stack loses its containers and networks; its volumes are kept and named") {
  FakeRuntime rt;
  rt.images["localhost/bb:1"] = "sha";
  (void)rt.EnsureNetwork(Net("gone_default"));
  (void)rt.EnsureVolume(Vol("gone_data"));
  auto id = rt.Add("gone_s_1", "localhost/bb:1", Labels("gone", "s"));
  core::StackPlan plan;
  plan.name = "gone";
  plan.action = core::Action::kRemove;
  plan.services = {{"s", core::Action::kRemove, {}, {id}}};
  std::vector<std::string> log;
  auto r = RemoveStack(plan, rt, [&](const std::string& l) { log.push_back(l); });
  CHECK(r.ok);
  CHECK(rt.containers.empty());
  CHECK(rt.IndexOf("network remove gone_default") >= 0);
  CHECK(log.back() == "stack gone removed; its volumes are kept: gone_data");
}

TEST_CASE("a removed stack with a VPN sidecar loses both, whichever is listed first") {
  FakeRuntime rt;
  rt.images["localhost/bb:1"] = "sha";
  auto tunnel = rt.Add("gone_tunnel_1", "localhost/bb:1", Labels("gone", "tunnel"));
  auto app = rt.Add("gone_app_1", "localhost/bb:1", Labels("gone", "app"));
  rt.containers[app].network_mode = "container:" + tunnel;
  core::StackPlan plan;
  plan.name = "gone";
  plan.action = core::Action::kRemove;
  plan.services = {{"tunnel", core::Action::kRemove, {}, {tunnel}},
                   {"app", core::Action::kRemove, {}, {app}}};
  auto r = RemoveStack(plan, rt, [](const std::string&) {});
  INFO(r.reason);
  CHECK(r.ok);
  CHECK(rt.containers.empty());
}

#include "reconcile/engine.hpp"
#include "util/strings.hpp"

TEST_CASE("back-off: a stack failed at a fingerprint waits, doubling, until the fingerprint changes") {
  Backoff b;
  auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  CHECK_FALSE(b.Blocked("web", "k1", t0));
  b.Failed("web", "k1", t0);
  CHECK(b.Blocked("web", "k1", t0) == 60s);
  CHECK_FALSE(b.Blocked("web", "k2", t0));  // a new fingerprint runs at once
  CHECK_FALSE(b.Blocked("api", "k1", t0));  // other stacks are not affected
  CHECK_FALSE(b.Blocked("web", "k1", t0 + 60s));
  b.Failed("web", "k1", t0 + 60s);
  CHECK(b.Blocked("web", "k1", t0 + 60s) == 120s);
  for (int i = 0; i < 20; ++i) b.Failed("web", "k1", t0);
  CHECK(b.Blocked("web", "k1", t0) == Backoff::kMax);  // capped
  b.Succeeded("web", t0);
  CHECK_FALSE(b.Blocked("web", "k1", t0));
}

TEST_CASE("back-off: kept in a file, a new process (the next worker) still waits, on its own clock") {
  test::TempDir dir;
  const auto file = dir / "backoff.json";
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(5));
  {
    Backoff b(file, t0);
    b.Failed("web", "k1", t0);
    b.Failed("web", "k1", t0);  // second failure: 2 min
    b.Failed("api", "k9", t0);
    b.Failed("db", "k3", t0);
    b.Succeeded("db", t0);
  }
  // Another process: its steady clock has nothing to do with the first one's.
  const auto t1 = std::chrono::steady_clock::time_point(std::chrono::hours(100));
  Backoff again(file, t1);
  auto web = again.Blocked("web", "k1", t1);
  REQUIRE(web);
  CHECK(*web > 110s);
  CHECK(*web <= 120s);
  CHECK(again.Blocked("api", "k9", t1));
  CHECK_FALSE(again.Blocked("db", "k3", t1));
  CHECK_FALSE(again.Blocked("web", "k2", t1));
  again.Failed("web", "k1", t1);  // the count went on: third failure, 4 min
  auto third = again.Blocked("web", "k1", t1);
  REQUIRE(third);
  CHECK(*third == 240s);

  // An unreadable file is an empty memory, never a failure.
  (void)WriteFileAtomic(file, "{not json");
  Backoff broken(file, t1);
  CHECK_FALSE(broken.Blocked("web", "k1", t1));
}

TEST_CASE("a new service nobody depends on is not held for the settle time, yet a crash at start fails it") {
  Harness h;
  auto gate = FastGate();
  gate.settle = 60'000ms;
  const auto t0 = h.clock.Now();
  auto r = h.Apply({"web", {Job("web", "site", core::Action::kCreate)}, {}, {}, {}, false}, gate);
  CHECK(r.ok);
  CHECK(h.clock.Now() - t0 < 60'000ms);  // the fake clock: no settle sleep happened

  Harness h2;
  h2.rt.images["localhost/crash:1"] = "sha-crash";
  h2.rt.exit_on_start["localhost/crash:1"] = "7";
  auto r2 = h2.Apply(
      {"web", {Job("web", "site", core::Action::kCreate, "localhost/crash:1")}, {}, {}, {}, false}, gate);
  CHECK_FALSE(r2.ok);
  REQUIRE(r2.services.size() == 1);
  CHECK(ToString(r2.services[0].outcome) == "failed");
  CHECK(r2.services[0].reason.find("exited with code 7") != std::string::npos);
  CHECK(r2.services[0].reason.find("fatal: config missing") != std::string::npos);
}

TEST_CASE("services sharing an image check or pull it once per stack") {
  Harness h;
  h.rt.images.clear();
  auto r = h.Apply({"web",
                    {Job("web", "a", core::Action::kCreate), Job("web", "b", core::Action::kCreate),
                     Job("web", "c", core::Action::kCreate)},
                    {},
                    {},
                    {},
                    false});
  CHECK(r.ok);
  auto calls = h.rt.Calls();
  CHECK(std::count(calls.begin(), calls.end(), "pull localhost/bb:1") == 1);
  CHECK(std::count(calls.begin(), calls.end(), "exists localhost/bb:1") == 1);
}

TEST_CASE("the health gate honours retries and start_period like Podman's own timer would") {
  auto run = [](std::vector<std::string> answers, int retries, std::chrono::milliseconds start_period) {
    Harness h;
    h.rt.images["localhost/bb:2"] = "sha-2";
    h.rt.health_script["localhost/bb:2"] = std::move(answers);
    auto s = Job("web", "site", core::Action::kCreate, "localhost/bb:2");
    s.has_healthcheck = true;
    s.health_interval = 1s;
    s.health_retries = retries;
    s.health_start_period = start_period;
    auto r = h.Apply({"web", {s}, {}, {}, {}, false});
    INFO(h.Log());
    return r;
  };
  // Two failed checks, then healthy: fine with 3 retries, a failure with 2.
  CHECK(run({"unhealthy", "unhealthy", "healthy"}, 3, 0ms).ok);
  auto two = run({"unhealthy", "unhealthy", "healthy"}, 2, 0ms);
  CHECK_FALSE(two.ok);
  CHECK(two.reason.find("healthcheck unhealthy") != std::string::npos);
  CHECK(two.reason.find("2 checks in a row") != std::string::npos);
  // Failures inside start_period do not count: 4 of them at 1 s intervals within 5 s.
  CHECK(run({"unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"}, 1, 5s).ok);
  CHECK_FALSE(run({"unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"}, 1, 0ms).ok);
  // A failure between two good answers resets the count of healthy ones, not the verdict.
  CHECK(run({"healthy", "unhealthy", "healthy"}, 3, 0ms).ok);
}

namespace {
// A VPN owner (tunnel) and a service in its network namespace (app), both running.
struct Sidecar {
  Harness h;
  std::string old_tunnel, old_app;
  ServiceJob tunnel, app;
  Sidecar() {
    old_tunnel = h.rt.Add("vpn_tunnel_1", "localhost/bb:1", Labels("vpn", "tunnel"), {9091});
    old_app = h.rt.Add("vpn_app_1", "localhost/bb:1", Labels("vpn", "app"));
    tunnel = Job("vpn", "tunnel", core::Action::kRecreate);
    tunnel.old_containers = {old_tunnel};
    tunnel.publishes_host_ports = true;
    tunnel.spec.ports = {{"", 9091, 9091, 1, "tcp"}};
    app = Job("vpn", "app", core::Action::kRecreate);
    app.old_containers = {old_app};
    app.shares_namespace = true;
    app.joins = {"tunnel"};
    app.spec.network_mode = "container:vpn_tunnel_1";
    app.depends_on = {{"tunnel", DependencyCondition::kStarted}};
  }
  StackResult Apply() { return h.Apply({"vpn", {app, tunnel}, {}, {}, {}, false}); }
};
}  // namespace

TEST_CASE("an owner of namespaces is replaced with its joiners as one group, joiners by the new id") {
  Sidecar v;
  auto r = v.Apply();
  INFO(v.h.Log());
  REQUIRE(r.ok);
  for (const auto& s : r.services) CHECK(ToString(s.outcome) == "recreated");
  auto& rt = v.h.rt;
  // Old joiner stops before its owner; the new joiner joins the new owner, after its gate.
  CHECK(rt.IndexOf("stop vpn_app_1") < rt.IndexOf("stop vpn_tunnel_1"));
  CHECK(rt.IndexOf("start vpn_tunnel_1_podcd-next") < rt.IndexOf("create vpn_app_1_podcd-next"));
  // Podman removes no owner with dependents: the old joiner goes first.
  CHECK(rt.IndexOf("remove vpn_app_1") < rt.IndexOf("remove vpn_tunnel_1"));
  const auto* tunnel = rt.ByName("vpn_tunnel_1");
  const auto* app = rt.ByName("vpn_app_1");
  REQUIRE(tunnel);
  REQUIRE(app);
  CHECK(tunnel->id != v.old_tunnel);
  CHECK(app->network_mode == "container:" + tunnel->id);
  CHECK(rt.containers.size() == 2);
}

TEST_CASE("a joiner failing its gate puts the whole old group back, owner first") {
  Sidecar v;
  v.h.rt.images["localhost/bb:crash"] = "sha-crash";
  v.h.rt.exit_on_start["localhost/bb:crash"] = "1";
  v.app.spec.image = "localhost/bb:crash";
  auto r = v.Apply();
  INFO(v.h.Log());
  CHECK_FALSE(r.ok);
  for (const auto& s : r.services) CHECK(ToString(s.outcome) == "rolled-back");
  auto& rt = v.h.rt;
  CHECK(rt.ByName("vpn_tunnel_1_podcd-next") == nullptr);
  CHECK(rt.ByName("vpn_app_1_podcd-next") == nullptr);
  CHECK(rt.containers.at(v.old_tunnel).status == "running");
  CHECK(rt.containers.at(v.old_app).status == "running");
  // The old owner starts again before the old joiner rejoins it.
  const auto calls = rt.Calls();
  auto last = [&](const std::string& call) {
    return std::find(calls.rbegin(), calls.rend(), call).base() - calls.begin();
  };
  CHECK(last("start vpn_tunnel_1") > 0);
  CHECK(last("start vpn_tunnel_1") < last("start vpn_app_1"));
}

TEST_CASE("a joiner changing alone is replaced on its own; its owner keeps running") {
  Sidecar v;
  v.tunnel.action = core::Action::kUnchanged;
  auto r = v.Apply();
  INFO(v.h.Log());
  REQUIRE(r.ok);
  CHECK(v.h.rt.containers.at(v.old_tunnel).status == "running");
  CHECK(v.h.rt.IndexOf("stop vpn_tunnel_1") == -1);
  REQUIRE(v.h.rt.ByName("vpn_app_1"));
  CHECK(v.h.rt.ByName("vpn_app_1")->network_mode == "container:vpn_tunnel_1");
}

TEST_CASE("a built image is built before anything stops, once; a failed build touches nothing") {
  Harness h;
  test::TempDir ctx;
  ctx.Write("Containerfile", "FROM localhost/bb:1\nRUN true\n");
  auto old = h.rt.Add("app_web_1", "localhost/bb:1", Labels("app", "web"));
  auto s = Job("app", "web", core::Action::kRecreate, "localhost/podcd-build/app_web:0123456789abcdef");
  s.old_containers = {old};
  podman::BuildRequest b;
  b.context_dir = ctx.path().string();
  b.dockerfile = "Containerfile";
  b.tags = {s.spec.image};
  s.build = b;

  SECTION("built, then replaced") {
    auto r = h.Apply({"app", {s}, {}, {}, {}, false});
    INFO(h.Log());
    REQUIRE(r.ok);
    CHECK(h.rt.IndexOf("build localhost/podcd-build/app_web:0123456789abcdef") >= 0);
    CHECK(h.rt.IndexOf("build localhost/podcd-build/app_web:0123456789abcdef") <
          h.rt.IndexOf("create app_web_1_podcd-next"));
    CHECK(h.Log().find("built localhost/podcd-build/app_web:0123456789abcdef for web") != std::string::npos);
    // Labelled with the ids of the images it was built from.
    CHECK(h.rt.image_labels.at(s.spec.image).at(std::string(kLabelBaseImages)).size() == 16);
  }
  SECTION("the tag is there already: no build") {
    h.rt.images[s.spec.image] = "sha-built";
    auto r = h.Apply({"app", {s}, {}, {}, {}, false});
    REQUIRE(r.ok);
    CHECK(h.rt.IndexOf("build localhost/podcd-build/app_web:0123456789abcdef") == -1);
  }
  SECTION("the build fails: the stack fails before anything stops") {
    h.rt.failing_builds.insert(b.context_dir);
    auto r = h.Apply({"app", {s}, {}, {}, {}, false});
    INFO(h.Log());
    CHECK_FALSE(r.ok);
    CHECK(r.reason ==
          "build of localhost/podcd-build/app_web:0123456789abcdef for service web failed: building at STEP "
          "\"RUN false\": exit status 1");
    CHECK(h.rt.WriteCalls() == 1);  // the build itself
    CHECK(h.rt.containers.at(old).status == "running");
  }
}

TEST_CASE("redeploy-and-update rebuilds a built service only when an image it is built from moved") {
  Harness h;
  test::TempDir ctx;
  // localhost/bb:1 is local only: read, never pulled, even when updating.
  ctx.Write("Containerfile",
            "FROM registry.example/base:1 AS b\nFROM b\nCOPY --from=registry.example/tools:1 /t /t\n"
            "COPY --from=localhost/bb:1 /bin/busybox /busybox\n");
  h.rt.registry["registry.example/base:1"] = "sha-base-1";
  h.rt.registry["registry.example/tools:1"] = "sha-tools-1";
  const std::string tag = "localhost/podcd-build/app_web:0123456789abcdef";
  podman::BuildRequest b;
  b.context_dir = ctx.path().string();
  b.dockerfile = "Containerfile";
  b.tags = {tag};
  auto s = Job("app", "web", core::Action::kCreate, tag);
  s.build = b;
  auto first = h.Apply({"app", {s}, {}, {}, {}, false});
  INFO(h.Log());
  REQUIRE(first.ok);
  const auto* web = h.rt.ByName("app_web_1");
  REQUIRE(web != nullptr);
  const std::string built_id = web->image_id;
  s.action = core::Action::kUnchanged;
  s.old_containers = {web->id};

  // Nothing moved: pulled again, not built, not replaced.
  h.rt.calls.clear();
  auto same = h.Apply({"app", {s}, {}, {}, {}, true});
  REQUIRE(same.ok);
  CHECK(h.rt.IndexOf("pull registry.example/base:1") >= 0);
  CHECK(h.rt.IndexOf("pull registry.example/tools:1") >= 0);
  CHECK(h.rt.IndexOf("pull localhost/bb:1") == -1);
  CHECK(h.rt.IndexOf("build " + tag) == -1);
  CHECK(h.rt.IndexOf("create app_web_1_podcd-next") == -1);

  // An image of a COPY --from moved: built again and replaced.
  h.rt.registry["registry.example/tools:1"] = "sha-tools-2";
  auto moved = h.Apply({"app", {s}, {}, {}, {}, true});
  REQUIRE(moved.ok);
  CHECK(h.rt.IndexOf("build " + tag) >= 0);
  CHECK(h.rt.IndexOf("create app_web_1_podcd-next") >= 0);
  CHECK(h.Log().find("an image that " + tag + " is built from moved") != std::string::npos);
  REQUIRE(h.rt.ByName("app_web_1") != nullptr);
  CHECK(h.rt.ByName("app_web_1")->image_id != built_id);

  // A plain deployment never pulls the bases of a present tag.
  h.rt.calls.clear();
  s.old_containers = {h.rt.ByName("app_web_1")->id};
  auto plain = h.Apply({"app", {s}, {}, {}, {}, false});
  REQUIRE(plain.ok);
  CHECK(h.rt.calls.empty());
}

TEST_CASE(
    "a bind that became a symlink out of the repository after the plan is refused right before create") {
  Harness h;
  auto s = Job("web", "site", core::Action::kCreate);
  s.spec.binds = {{"/repo/services/web/data", "/data", {"rw"}}, {"/etc/localtime", "/etc/localtime", {"ro"}}};
  StackJob job{"web", {s}, {}, {}, {}, false};
  core::PolicySettings p;
  p.allowed_bind_roots = {"/etc/localtime"};
  std::string data_now = "/repo/services/web/data";
  p.resolve = [&data_now](const std::string& path) {
    return path == "/repo/services/web/data" ? data_now : path;
  };
  job.bind_guard = core::MakeBindGuard("web", "web", {"/repo"}, p);
  SECTION("still a directory of the repository: created") {
    auto r = h.Apply(job);
    INFO(h.Log());
    CHECK(r.ok);
    CHECK(h.rt.ByName("web_site_1"));
  }
  SECTION("now a symlink to /etc: refused, nothing created") {
    data_now = "/etc";
    auto r = h.Apply(job);
    INFO(h.Log());
    CHECK_FALSE(r.ok);
    CHECK(r.reason.find("service site: volumes: /repo/services/web/data is refused by policy") !=
          std::string::npos);
    CHECK(r.reason.find("allow rule host_binds for stack web") != std::string::npos);
    CHECK(h.rt.IndexOf("create web_site_1") == -1);
    CHECK(!h.rt.ByName("web_site_1"));
  }
}
