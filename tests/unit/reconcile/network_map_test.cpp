// Networks with their own subnets and services with fixed addresses: compose text -> the
// libpod network create body and SpecGenerator fields; a changed network made again by the
// applier, and put back when the stack rolls back.
#include <catch2/catch.hpp>

#include "reconcile/apply.hpp"
#include "reconcile/network_replace.hpp"
#include "reconcile/spec_map.hpp"
#include "unit/compose/helpers.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using namespace std::chrono_literals;

namespace {

const char* kStack = R"(services:
  dns:
    image: localhost/bb:1
    runtime: runc
    networks:
      lan:
        ipv4_address: 172.28.5.10
        ipv6_address: "fd00:28::10"
        mac_address: 02:42:ac:1c:05:0a
        priority: 1
      admin:
        priority: 9
  app:
    image: localhost/bb:1
    networks: [lan]
networks:
  lan:
    enable_ipv6: true
    ipam:
      driver: default
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
        - subnet: "fd00:28::/64"
  admin:
    internal: true
    ipam: {driver: dhcp}
)";

core::Stack Load(test::Repo& repo, const std::string& yaml) {
  auto r = repo.Load("dns", yaml);
  INFO((r ? std::string() : test::Join(r.error())));
  REQUIRE(r);
  return *r;
}

ServiceJob Map(const core::Stack& st, const std::string& service) {
  auto r = MapService(st, *st.Find(service), {"fp", "fields", "c0ffee", "d-1"});
  INFO((r ? std::string() : r.error().What()));
  REQUIRE(r);
  return *r;
}

const podman::NetworkAttachment& On(const ServiceJob& job, const std::string& network) {
  for (const auto& n : job.spec.networks) {
    if (n.name == network) return n;
  }
  FAIL("not on " + network);
  throw;
}

}  // namespace

TEST_CASE("fixed addresses, MAC, priority and runtime reach the SpecGenerator") {
  test::Repo repo;
  auto st = Load(repo, kStack);
  auto dns = Map(st, "dns");
  const auto& lan = On(dns, "dns_lan");
  CHECK(lan.static_ips == std::vector<std::string>{"172.28.5.10", "fd00:28::10"});
  CHECK(lan.static_mac == "02:42:ac:1c:05:0a");
  // The highest priority is connected first: eth0.
  CHECK(On(dns, "dns_admin").interface_name == "eth0");
  CHECK(lan.interface_name == "eth1");
  CHECK(dns.spec.oci_runtime == "runc");
  CHECK(dns.fixed_address);
  const std::string json = podman::ToSpecGeneratorJson(dns.spec);
  CHECK(json.find(R"("dns_lan":{"aliases":["dns"],"static_ips":["172.28.5.10","fd00:28::10"],)"
                  R"("static_mac":"02:42:ac:1c:05:0a","interface_name":"eth1"})") != std::string::npos);
  CHECK(json.find(R"("oci_runtime":"runc")") != std::string::npos);
  // A service without them: none of the new fields, no overlap forbidden.
  auto app = Map(st, "app");
  CHECK(On(app, "dns_lan").static_ips.empty());
  CHECK(On(app, "dns_lan").interface_name.empty());
  CHECK_FALSE(app.fixed_address);
  CHECK(podman::ToSpecGeneratorJson(app.spec).find("oci_runtime") == std::string::npos);
}

TEST_CASE("ipam becomes the network create body: subnets, gateway, lease range, IPv6, ipam driver") {
  test::Repo repo;
  auto st = Load(repo, kStack);
  StackJob job;
  MapStackResources(st, job);
  REQUIRE(job.networks.size() == 2);
  const auto& admin = job.networks[0];
  const auto& lan = job.networks[1];
  CHECK(lan.name == "dns_lan");
  CHECK(lan.ipv6_enabled);
  REQUIRE(lan.subnets.size() == 2);
  CHECK(lan.subnets[0] == podman::Subnet{"172.28.0.0/16", "172.28.5.254", "172.28.5.1", "172.28.5.254"});
  CHECK(lan.subnets[1] == podman::Subnet{"fd00:28::/64", "", "", ""});
  CHECK(lan.ipam_options.empty());
  CHECK(admin.internal);
  CHECK(admin.ipam_options.at("driver") == "dhcp");
  CHECK(admin.subnets.empty());
  // The digest of what shapes the network labels it; any change of ipam moves it.
  CHECK(lan.labels.at("io.podcd.fingerprint") == NetworkFingerprint(lan));
  std::string text = kStack;
  text.replace(text.find("gateway: 172.28.5.254"), 21, "gateway: 172.28.5.253");
  auto moved = Load(repo, text);
  StackJob job2;
  MapStackResources(moved, job2);
  CHECK(job2.networks[1].labels.at("io.podcd.fingerprint") != lan.labels.at("io.podcd.fingerprint"));
  CHECK(job2.networks[0].labels.at("io.podcd.fingerprint") == admin.labels.at("io.podcd.fingerprint"));
}

TEST_CASE("a network is changed when its label differs, or (made by an older podcd) its subnets do") {
  podman::NetworkCreate want;
  want.name = "s_n";
  want.labels["io.podcd.fingerprint"] = "a";
  podman::NetworkInfo have;
  have.name = "s_n";
  have.labels["io.podcd.fingerprint"] = "a";
  CHECK_FALSE(NetworkChanged(want, have));
  have.labels["io.podcd.fingerprint"] = "b";
  CHECK(NetworkChanged(want, have));
  have.labels.clear();  // an older podcd's network: only subnets compare
  have.subnets = {{"10.89.0.0/24", "10.89.0.1", "", ""}};
  CHECK_FALSE(NetworkChanged(want, have));
  want.subnets = {{"10.89.0.0/24", "", "", ""}};
  CHECK_FALSE(NetworkChanged(want, have));
  want.subnets = {{"10.90.0.0/24", "", "", ""}};
  CHECK(NetworkChanged(want, have));
}

namespace {

struct Rig {
  test::FakeRuntime rt;
  test::FakeClock clock;
  std::vector<std::string> log;
  std::string old;
  Rig() {
    rt.images["localhost/bb:1"] = "sha-bb1";
    rt.images["localhost/bb:bad"] = "sha-bad";
    rt.health["localhost/bb:bad"] = "unhealthy";
    old = rt.Add("s_web_1", "localhost/bb:1",
                 {{"io.podcd.stack", "s"}, {"io.podcd.service", "web"}, {"io.podcd.fingerprint", "f1"}});
    // The network as the last run made it, the old container on it with its address.
    rt.networks_.insert("s_n");
    podman::NetworkInfo info;
    info.name = "s_n";
    info.labels = {{"io.podcd.fingerprint", "old"}, {"io.podcd.stack", "s"}};
    info.subnets = {{"10.50.0.0/24", "10.50.0.1", "", ""}};
    rt.network_info["s_n"] = info;
    rt.attached[old]["s_n"] = {"10.50.0.10", "02:00:00:00:00:01", {"web"}};
  }
  StackJob Job(const std::string& image) {
    ServiceJob s;
    s.name = "web";
    s.action = core::Action::kRecreate;
    s.old_containers = {old};
    s.spec.name = "s_web_1";
    s.spec.image = image;
    s.spec.networks = {{"s_n", {"web"}}};
    s.spec.networks[0].static_ips = {"10.60.0.10"};
    s.fixed_address = true;
    s.has_healthcheck = image.ends_with("bad");
    s.health_interval = 1s;
    podman::NetworkCreate n;
    n.name = "s_n";
    n.subnets = {{"10.60.0.0/24", "", "", ""}};
    n.labels = {{"io.podcd.fingerprint", "new"}, {"io.podcd.stack", "s"}};
    return StackJob{"s", {s}, {n}, {}, {}, false};
  }
  StackResult Apply(const StackJob& job) {
    GateOptions g;
    g.settle = 1000ms;
    g.timeout = 10'000ms;
    return ApplyStack(job, rt, clock, g, [this](const std::string& l) { log.push_back(l); });
  }
  std::string Log() const {
    std::string out;
    for (const auto& l : log) out += l + "\n";
    for (const auto& c : rt.calls) out += "call " + c + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("a changed subnet makes the network again before its services are replaced") {
  Rig rig;
  auto r = rig.Apply(rig.Job("localhost/bb:1"));
  INFO(rig.Log());
  REQUIRE(r.ok);
  auto& rt = rig.rt;
  CHECK(rt.IndexOf("disconnect s_web_1 s_n") < rt.IndexOf("network remove s_n"));
  CHECK(rt.IndexOf("network remove s_n") < rt.IndexOf("network create s_n"));
  CHECK(rt.IndexOf("network create s_n") < rt.IndexOf("create s_web_1_podcd-next"));
  // A fixed address: the old container stops before the new one starts.
  CHECK(rt.IndexOf("stop s_web_1") < rt.IndexOf("start s_web_1_podcd-next"));
  CHECK(rt.network_info.at("s_n").subnets.at(0).subnet == "10.60.0.0/24");
  CHECK(rig.Log().find("network s_n changed: made again (1 old container(s)") != std::string::npos);
}

TEST_CASE("a stack that rolls back gets its old network back, its old container on it with its address") {
  Rig rig;
  auto r = rig.Apply(rig.Job("localhost/bb:bad"));
  INFO(rig.Log());
  CHECK_FALSE(r.ok);
  auto& rt = rig.rt;
  CHECK(rt.containers.at(rig.old).status == "running");
  CHECK(rt.network_info.at("s_n").subnets.at(0).subnet == "10.50.0.0/24");
  CHECK(rt.network_info.at("s_n").labels.at("io.podcd.fingerprint") == "old");
  CHECK(rt.IndexOf("connect s_web_1 s_n 10.50.0.10") > rt.IndexOf("network create s_n"));
  CHECK(rig.Log().find("network s_n restored as it was") != std::string::npos);
}

TEST_CASE("a new network that cannot be created puts the old one back and touches no container") {
  Rig rig;
  auto job = rig.Job("localhost/bb:1");
  rig.rt.fail_network_create.insert("s_n 10.60.0.0/24");  // the new one only
  auto r = rig.Apply(job);
  INFO(rig.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.find("network s_n could not be made again: subnet already used") != std::string::npos);
  CHECK(rig.rt.IndexOf("create s_web_1_podcd-next") == -1);
  CHECK(rig.rt.containers.at(rig.old).status == "running");
  CHECK(rig.rt.network_info.at("s_n").subnets.at(0).subnet == "10.50.0.0/24");
  CHECK(rig.rt.IndexOf("connect s_web_1 s_n 10.50.0.10") > rig.rt.IndexOf("disconnect s_web_1 s_n"));
}
