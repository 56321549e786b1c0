#include "core/policy.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <set>

#include "config/config.hpp"

using namespace podcd::core;

namespace {

Stack OneService(Service s) {
  Stack st;
  st.name = st.dir = "web";
  s.name = "app";
  st.services.push_back(std::move(s));
  return st;
}

Mount HostBind(std::string path, bool ro = false) {
  Mount m;
  m.type = MountType::kBind;
  m.source = std::move(path);
  m.target = "/x";
  m.read_only = ro;
  return m;
}

std::vector<std::string> Rules(const std::vector<Violation>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.rule);
  return out;
}

}  // namespace

TEST_CASE("a plain stack passes") {
  Service s;
  s.image = "nginx";
  s.cap_add = {"NET_BIND_SERVICE"};
  s.security_opt = {"no-new-privileges:true", "label=type:container_t"};
  s.volumes = {HostBind("/etc/localtime", true), HostBind("/etc/timezone/", true)};
  Mount repo_bind = HostBind("/repo/services/web/conf");
  repo_bind.repo_path = "services/web/conf";
  s.volumes.push_back(repo_bind);
  CHECK(CheckPolicy(OneService(s), {}).empty());
}

TEST_CASE("every rule is refused by default and allowed per stack") {
  struct Case {
    std::string rule;
    std::function<void(Service&)> set;
  };
  std::vector<Case> cases = {
      {"privileged", [](Service& s) { s.privileged = true; }},
      {"host_namespaces", [](Service& s) { s.pid = "host"; }},
      {"host_namespaces", [](Service& s) { s.ipc = "host"; }},
      {"host_namespaces", [](Service& s) { s.network_mode = "host"; }},
      {"host_namespaces", [](Service& s) { s.userns_mode = "host"; }},
      {"host_namespaces", [](Service& s) { s.network_mode = "ns:/proc/1/ns/net"; }},
      {"host_namespaces", [](Service& s) { s.pid = "ns:/proc/1/ns/pid"; }},
      {"cap_sys_admin", [](Service& s) { s.cap_add = {"ALL"}; }},
      {"cap_sys_admin", [](Service& s) { s.cap_add = {"SYS_ADMIN"}; }},
      {"devices",
       [](Service& s) {
         s.devices = {Device{"/dev/fuse", "", ""}};
       }},
      {"host_root", [](Service& s) { s.volumes = {HostBind("/", true)}; }},
      {"host_root", [](Service& s) { s.volumes = {HostBind("/./")}; }},
      {"podman_socket", [](Service& s) { s.volumes = {HostBind("/run/podman/podman.sock")}; }},
      {"podman_socket", [](Service& s) { s.volumes = {HostBind("/var/run/docker.sock")}; }},
      {"podman_socket", [](Service& s) { s.volumes = {HostBind("/run/user/1000/podman")}; }},
      {"host_binds", [](Service& s) { s.volumes = {HostBind("/srv/data")}; }},
      {"host_binds", [](Service& s) { s.volumes = {HostBind("/etc/localtime")}; }},  // read-write
      {"host_binds", [](Service& s) { s.volumes = {HostBind("/etc/localtime2", true)}; }},
      {"unconfined", [](Service& s) { s.security_opt = {"seccomp=unconfined"}; }},
      {"unconfined", [](Service& s) { s.security_opt = {"apparmor:unconfined"}; }},
      {"unconfined", [](Service& s) { s.security_opt = {"label=disable"}; }},
      {"unconfined", [](Service& s) { s.security_opt = {"systempaths=unconfined"}; }},
  };
  for (const auto& c : cases) {
    Service s;
    s.image = "x";
    c.set(s);
    auto st = OneService(s);
    INFO(c.rule);
    auto v = CheckPolicy(st, {});
    REQUIRE(v.size() == 1);
    CHECK(v[0].rule == c.rule);
    CHECK(v[0].service == "app");
    CHECK(v[0].reason.find("service app") != std::string::npos);
    CHECK(v[0].reason.find(c.rule) != std::string::npos);
    PolicySettings allow;
    allow.allow["web"] = {c.rule};
    CHECK(CheckPolicy(st, allow).empty());
    PolicySettings other;
    other.allow["api"] = {c.rule};
    CHECK(CheckPolicy(st, other).size() == 1);
    PolicySettings wrong_rule;
    wrong_rule.allow["web"] = {c.rule == "devices" ? "privileged" : "devices"};
    CHECK(CheckPolicy(st, wrong_rule).size() == 1);
  }
}

TEST_CASE("allowed bind roots admit host paths below them only") {
  Service s;
  s.image = "x";
  // Read-only: a writable bind below an allowed root needs host_binds_rw (policy_allow_list_test).
  s.volumes = {HostBind("/srv/data/app", true), HostBind("/srv/database", true), HostBind("/srv/data", true)};
  PolicySettings p;
  p.allowed_bind_roots = {"/srv/data/"};
  auto v = CheckPolicy(OneService(s), p);
  REQUIRE(v.size() == 1);
  CHECK(v[0].reason.find("/srv/database") != std::string::npos);
}

TEST_CASE("a local volume that binds a host path is checked like a bind") {
  Stack st;
  st.name = st.dir = "web";
  VolumeDef d;
  d.driver_opts = {{"type", "none"}, {"o", "bind"}, {"device", "/"}};
  d.name = "web_root";  // the loader's default name (another name is shared_volumes)
  st.volumes["root"] = d;
  Service s;
  s.name = "app";
  Mount m;
  m.type = MountType::kVolume;
  m.source = "root";
  m.target = "/host";
  s.volumes = {m};
  st.services.push_back(s);
  CHECK(Rules(CheckPolicy(st, {})) == std::vector<std::string>{"host_root"});
}

TEST_CASE("all violations of all services are reported") {
  Stack st;
  st.name = st.dir = "web";
  Service a;
  a.name = "a";
  a.privileged = true;
  a.cap_add = {"SYS_ADMIN"};
  Service b;
  b.name = "b";
  b.network_mode = "host";
  st.services = {a, b};
  auto v = CheckPolicy(st, {});
  CHECK(Rules(v) == std::vector<std::string>{"privileged", "cap_sys_admin", "host_namespaces"});
  CHECK(v[2].service == "b");
}

TEST_CASE("core's rule names are exactly the configuration's") {
  std::set<std::string_view> core_rules = {
      kRulePrivileged,    kRuleHostNamespaces, kRuleCapSysAdmin,   kRuleDevices,        kRulePodmanSocket,
      kRuleHostBinds,     kRuleUnconfined,     kRuleHostRoot,      kRuleCapabilities,   kRuleJoinContainers,
      kRuleSecurityOpt,   kRuleHostBindsRw,    kRuleVolumeDrivers, kRuleNetworkDrivers, kRuleSysctls,
      kRuleSharedVolumes, kRuleHostHooks};
  CHECK(core_rules == std::set<std::string_view>(std::begin(kAllRules), std::end(kAllRules)));
  std::set<std::string_view> config_rules(std::begin(podcd::config::kPolicyRules),
                                          std::end(podcd::config::kPolicyRules));
  CHECK(core_rules == config_rules);
}

TEST_CASE("the configured Podman socket is refused wherever it lives") {
  Service s;
  s.image = "x";
  s.volumes = {HostBind("/srv/sock/api.sock", true)};  // read-only: a writable one needs host_binds_rw
  PolicySettings p;
  p.allowed_bind_roots = {"/srv"};
  CHECK(CheckPolicy(OneService(s), p).empty());
  p.podman_socket = "unix:///srv/sock/api.sock";
  CHECK(Rules(CheckPolicy(OneService(s), p)) == std::vector<std::string>{"podman_socket"});
  s.volumes = {HostBind("/srv/sock", true)};
  CHECK(Rules(CheckPolicy(OneService(s), p)) == std::vector<std::string>{"podman_socket"});
}
