// Networks with their own addresses (ipam, fixed addresses, MACs), `runtime`, keys without
// meaning on a server, and `~` paths: the forms compose files write (the compose
// specification and compose-go's loader tests list them), read, checked with the line and key
// of each mistake, and fingerprinted.
#include <catch2/catch.hpp>

#include "core/compose_keys.hpp"
#include "core/fingerprint.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A DNS stack as real ones write it: its own subnet and a fixed address for the server.
const char* kDns = R"(services:
  dns:
    image: localhost/bb:1
    networks:
      dnsnet:
        ipv4_address: 172.28.5.10
        ipv6_address: "fd00:28::10"
        mac_address: 02:42:AC:1C:05:0A
        priority: 100
        link_local_ips: [169.254.8.8]
      other:
        priority: 5
  app:
    image: localhost/bb:1
    networks: [dnsnet]
networks:
  dnsnet:
    enable_ipv6: true
    internal: true
    labels: {role: dns}
    driver_opts: {mtu: "1400"}
    ipam:
      driver: default
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
          aux_addresses:
            host1: 172.28.1.5
        - subnet: "fd00:28::/64"
  other: {}
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto p = text.find(from);
  REQUIRE(p != std::string::npos);
  return text.replace(p, from.size(), to);
}

std::string Fp(const core::Stack& st, const std::string& service) {
  return core::Fingerprint(st, *st.Find(service));
}

}  // namespace

TEST_CASE("ipam, fixed addresses, MAC, priority and link-local addresses are read") {
  Repo repo;
  auto st = repo.Ok("dns", kDns);
  const auto& net = st.networks.at("dnsnet");
  CHECK(net.enable_ipv6);
  CHECK(net.internal);
  CHECK(net.ipam.driver == "default");
  REQUIRE(net.ipam.config.size() == 2);
  CHECK(net.ipam.config[0].subnet == "172.28.0.0/16");
  CHECK(net.ipam.config[0].ip_range == "172.28.5.0/24");
  CHECK(net.ipam.config[0].gateway == "172.28.5.254");
  CHECK(net.ipam.config[0].aux_addresses.at("host1") == "172.28.1.5");
  CHECK(net.ipam.config[1].subnet == "fd00:28::/64");
  const auto& sn = st.Find("dns")->networks.at("dnsnet");
  CHECK(sn.ipv4_address == "172.28.5.10");
  CHECK(sn.ipv6_address == "fd00:28::10");
  CHECK(sn.mac_address == "02:42:ac:1c:05:0a");
  CHECK(sn.priority == 100);
  CHECK(sn.link_local_ips == std::vector<std::string>{"169.254.8.8"});
  // What Podman cannot be given is said in the plan's notes, with its key.
  REQUIRE(st.notes.size() == 2);
  CHECK(Contains(st.notes[0], "networks.dnsnet.ipam.config[0].aux_addresses: ignored"));
  CHECK(Contains(st.notes[1], "services.dns.networks.dnsnet.link_local_ips: ignored"));
}

TEST_CASE("ipam and per-network settings enter the fingerprints of the services on the network") {
  Repo repo;
  auto base = repo.Ok("dns", kDns);
  struct Case {
    const char* from;
    const char* to;
    bool app_changes;  // app joins dnsnet too: a change of the network recreates it as well
  };
  for (const Case& c : {Case{"subnet: 172.28.0.0/16", "subnet: 172.28.0.0/15", true},
                        Case{"ip_range: 172.28.5.0/24", "ip_range: 172.28.4.0/23", true},
                        Case{"gateway: 172.28.5.254", "gateway: 172.28.5.253", true},
                        Case{"host1: 172.28.1.5", "host1: 172.28.1.6", true},
                        Case{"driver: default", "driver: host-local", true},
                        Case{"ipv4_address: 172.28.5.10", "ipv4_address: 172.28.5.11", false},
                        Case{"mac_address: 02:42:AC:1C:05:0A", "mac_address: 02:42:AC:1C:05:0B", false},
                        Case{"link_local_ips: [169.254.8.8]", "link_local_ips: [169.254.8.9]", false},
                        Case{"priority: 100", "priority: 1", false}}) {
    INFO(c.from << " -> " << c.to);
    const std::string text = Replace(kDns, c.from, c.to);
    auto changed = repo.Ok("dns", text);
    CHECK(Fp(changed, "dns") != Fp(base, "dns"));
    CHECK((Fp(changed, "app") != Fp(base, "app")) == c.app_changes);
  }
}

TEST_CASE("a network without ipam and a service without the new settings keep their canonical form") {
  Repo repo;
  auto st = repo.Ok("p", "services: {a: {image: x, networks: {n: {aliases: [b]}}}}\nnetworks: {n: {}}\n");
  auto fields = core::Canonicalize(st, *st.Find("a"));
  // As podcd wrote it before it read ipam: containers deployed then are not recreated.
  CHECK(
      fields.at("network n") ==
      R"({"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"p_n"})");
  CHECK(fields.at("networks.n") ==
        R"({"aliases":["b"],"ipv4_address":"","ipv6_address":"","priority":null})");
  CHECK_FALSE(fields.contains("runtime"));
}

TEST_CASE("ipam mistakes are refused with the file, line and key") {
  Repo repo;
  auto err = [&](const std::string& from, const std::string& to) {
    return repo.Errors("dns", Replace(kDns, from, to));
  };
  auto e = err("subnet: 172.28.0.0/16", "subnet: 172.28.0.0");
  CHECK(Contains(e, "services/dns/compose.yml:"));
  CHECK(Contains(e, "networks.dnsnet.ipam.config[0].subnet: must be a subnet in CIDR notation"));
  CHECK(Contains(err("subnet: 172.28.0.0/16", "subnet: 172.28.0.0/33"), "CIDR notation"));
  CHECK(Contains(err("subnet: 172.28.0.0/16", "subnet: 172.28.1.0/16"),
                 "host bits set: did you mean 172.28.0.0/16?"));
  e = err("gateway: 172.28.5.254", "gateway: 10.0.0.1");
  CHECK(Contains(e, "compose.yml:27:"));
  CHECK(Contains(
      e, "networks.dnsnet.ipam.config[0].gateway: \"10.0.0.1\" is not inside the subnet 172.28.0.0/16"));
  CHECK(Contains(err("ip_range: 172.28.5.0/24", "ip_range: 172.27.5.0/24"),
                 "networks.dnsnet.ipam.config[0].ip_range: \"172.27.5.0/24\" is not inside the subnet"));
  CHECK(Contains(err("ip_range: 172.28.5.0/24", "ip_range: 172.28.0.0/8"), "is not inside the subnet"));
  CHECK(Contains(err("ip_range: 172.28.5.0/24", "ip_range: 172.28.5.1"), "must be a range in CIDR notation"));
  CHECK(Contains(err("host1: 172.28.1.5", "host1: 10.1.1.5"),
                 "aux_addresses.host1: \"10.1.1.5\" is not an address inside"));
  CHECK(Contains(err("driver: default", "driver: weave"), "ipam.driver: unsupported ipam driver \"weave\""));
  CHECK(Contains(err("        - subnet: \"fd00:28::/64\"", "        - gateway: \"fd00:28::1\""),
                 "ipam.config[1].subnet: is required"));
  CHECK(Contains(err("aux_addresses:", "options: {a: b}\n          aux_addresses:"),
                 "unsupported key \"options\""));
}

TEST_CASE("fixed addresses must lie inside a configured subnet of their network") {
  Repo repo;
  auto err = [&](const std::string& from, const std::string& to) {
    return repo.Errors("dns", Replace(kDns, from, to));
  };
  auto e = err("ipv4_address: 172.28.5.10", "ipv4_address: 10.9.9.9");
  CHECK(Contains(e, "compose.yml:6:"));
  CHECK(Contains(e,
                 "services.dns.networks.dnsnet.ipv4_address: \"10.9.9.9\" is not inside a subnet of network "
                 "\"dnsnet\" (172.28.0.0/16)"));
  CHECK(Contains(err("ipv4_address: 172.28.5.10", "ipv4_address: fd00:28::11"), "must be an IPv4 address"));
  CHECK(
      Contains(err("ipv4_address: 172.28.5.10", "ipv4_address: 172.28.5.254"), "is the gateway of network"));
  CHECK(
      Contains(err("ipv6_address: \"fd00:28::10\"", "ipv6_address: \"fd00:29::10\""),
               "ipv6_address: \"fd00:29::10\" is not inside a subnet of network \"dnsnet\" (fd00:28::/64)"));
  CHECK(Contains(err("mac_address: 02:42:AC:1C:05:0A", "mac_address: 02:42:AC:1C:05"),
                 "must be a MAC address"));
  CHECK(Contains(err("link_local_ips: [169.254.8.8]", "link_local_ips: [somewhere]"),
                 "must list IP addresses"));
  CHECK(Contains(
      err("    networks: [dnsnet]", "    networks: {dnsnet: {ipv4_address: 172.28.5.10}}"),
      "services.dns.networks.dnsnet.ipv4_address: \"172.28.5.10\" is also the address of service app"));
  // Without a subnet Podman picks one: a fixed address has nothing to lie in.
  e = repo.Errors("p", "services: {a: {image: x, networks: {default: {ipv4_address: 10.1.2.3}}}}\n");
  CHECK(Contains(e,
                 "services.a.networks.default.ipv4_address: a fixed address needs an IPv4 subnet of network "
                 "\"default\": give one in networks.default.ipam.config"));
  // An external network's subnets are another's: not checked here.
  repo.Ok("q",
          "services: {a: {image: x, networks: {ext: {ipv4_address: 10.1.2.3}}}}\nnetworks: {ext: {external: "
          "true}}\n");
}

TEST_CASE("runtime is read and fingerprinted; keys without meaning on a server are noted") {
  Repo repo;
  auto base = repo.Ok("p", "services: {a: {image: x}}\n");
  auto st = repo.Ok("p", "services: {a: {image: x, runtime: runc}}\n");
  CHECK(st.Find("a")->runtime == "runc");
  CHECK(Fp(st, "a") != Fp(base, "a"));
  CHECK(Fp(repo.Ok("p", "services: {a: {image: x, runtime: crun}}\n"), "a") != Fp(st, "a"));
  CHECK(Contains(repo.Errors("p", "services: {a: {image: x, runtime: [runc]}}\n"),
                 "services.a.runtime: must be"));

  auto dev = repo.Ok("p", R"(services:
  a:
    image: x
    attach: false
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app/src
)");
  REQUIRE(dev.notes.size() == 2);
  CHECK(dev.notes[0] ==
        "services.a.attach: ignored (log attachment of `compose up` has no meaning on a server: "
        "see podman logs)");
  CHECK(Contains(dev.notes[1], "services.a.develop: ignored (compose watch has no meaning on a server"));
  // Ignored: not in the fingerprint.
  CHECK(Fp(dev, "a") == Fp(base, "a"));
}

TEST_CASE("a bind source starting with ~ is refused with why and what to write instead") {
  Repo repo;
  auto e = repo.Errors("p", "services:\n  a:\n    image: x\n    volumes: [\"~/data:/data\"]\n");
  CHECK(Contains(e, "services/p/compose.yml:4:"));
  CHECK(Contains(e, "paths starting with ~ are not supported: \"~/data\""));
  CHECK(Contains(e, "no user's home"));
  CHECK(Contains(e, "write an absolute path"));
  CHECK(Contains(e, "relative to the stack directory, e.g. ./data"));
}
