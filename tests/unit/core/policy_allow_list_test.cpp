// The stack policy as an allow-list (issue 13): every escape class in every spelling the issue
// observed is refused without an allowance and permitted by its rule alone; the benign forms
// pass with the default settings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

#include "core/policy.hpp"

using namespace podcd::core;

namespace {

Stack WebStack(Service s) {
  Stack st;
  st.name = st.dir = "web";
  s.name = "app";
  if (s.image.empty()) s.image = "x";
  Service db;
  db.name = "db";
  db.image = "postgres";
  Service cache;
  cache.name = "cache";
  cache.image = "redis";
  cache.container_name = "web-cache";
  st.services = {std::move(s), cache, db};
  std::sort(st.services.begin(), st.services.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return st;
}

Mount Bind(std::string path, bool ro = false) {
  Mount m;
  m.type = MountType::kBind;
  m.source = std::move(path);
  m.target = "/x";
  m.read_only = ro;
  return m;
}

Mount NamedVolume(std::string name) {
  Mount m;
  m.type = MountType::kVolume;
  m.source = std::move(name);
  m.target = "/data";
  return m;
}

// The configuration's defaults.
PolicySettings Defaults() {
  PolicySettings p;
  p.allowed_bind_roots = {"/etc/localtime", "/etc/timezone"};
  return p;
}

// A file system as the resolver sees it: these paths are symlinks.
ResolveFn Links(std::map<std::string, std::string> links) {
  return [links](const std::string& p) {
    for (const auto& [from, to] : links) {
      if (p == from) return to;
      if (p.starts_with(from + "/")) return to + p.substr(from.size());
    }
    return p;
  };
}

struct Case {
  std::string rule;
  std::string what;  // the key and value the refusal must name
  std::function<void(Stack&)> set;
  std::function<void(PolicySettings&)> settings = [](PolicySettings&) {};
};

void Svc(Stack& st, const std::function<void(Service&)>& f) {
  for (auto& s : st.services) {
    if (s.name == "app") f(s);
  }
}

Case S(std::string rule, std::string what, std::function<void(Service&)> f) {
  return {std::move(rule), std::move(what), [f](Stack& st) { Svc(st, f); }};
}

Case Volume(std::string rule, std::map<std::string, std::string> opts, std::string driver = "") {
  return {std::move(rule), "volumes: data", [opts, driver](Stack& st) {
            VolumeDef d;
            d.name = "web_data";
            d.driver = driver;
            d.driver_opts = opts;
            st.volumes["data"] = d;
            Svc(st, [](Service& s) { s.volumes = {NamedVolume("data")}; });
          }};
}

Case Network(std::string driver, std::map<std::string, std::string> opts) {
  return {"network_drivers", "networks: lan", [driver, opts](Stack& st) {
            NetworkDef d;
            d.driver = driver;
            d.driver_opts = opts;
            st.networks["lan"] = d;
            Svc(st, [](Service& s) { s.networks = {{"lan", {}}}; });
          }};
}

std::vector<Case> Escapes() {
  using Sv = Service;
  return {
      // Capabilities beyond Docker's default set, with or without CAP_, any case.
      S("capabilities", "cap_add: SYS_MODULE", [](Sv& s) { s.cap_add = {"SYS_MODULE"}; }),
      S("capabilities", "cap_add: DAC_READ_SEARCH", [](Sv& s) { s.cap_add = {"DAC_READ_SEARCH"}; }),
      S("capabilities", "cap_add: cap_sys_module", [](Sv& s) { s.cap_add = {"cap_sys_module"}; }),
      S("capabilities", "cap_add: CAP_DAC_READ_SEARCH", [](Sv& s) { s.cap_add = {"CAP_DAC_READ_SEARCH"}; }),
      S("capabilities", "cap_add: NET_ADMIN", [](Sv& s) { s.cap_add = {"NET_ADMIN"}; }),
      S("capabilities", "cap_add: Sys_Ptrace", [](Sv& s) { s.cap_add = {"Sys_Ptrace"}; }),
      S("cap_sys_admin", "cap_add: ALL", [](Sv& s) { s.cap_add = {"ALL"}; }),
      S("cap_sys_admin", "cap_add: cap_sys_admin", [](Sv& s) { s.cap_add = {"cap_sys_admin"}; }),
      // security_opt: seccomp and AppArmor changes, a profile of the repository included.
      S("security_opt", "security_opt: seccomp=./allow.json",
        [](Sv& s) { s.security_opt = {"seccomp=./allow.json"}; }),
      S("security_opt", "security_opt: seccomp:/srv/allow.json",
        [](Sv& s) { s.security_opt = {"seccomp:/srv/allow.json"}; }),
      S("security_opt", "security_opt: apparmor=docker-custom",
        [](Sv& s) { s.security_opt = {"apparmor=docker-custom"}; }),
      S("unconfined", "security_opt: seccomp=unconfined",
        [](Sv& s) { s.security_opt = {"seccomp=unconfined"}; }),
      S("unconfined", "security_opt: apparmor:unconfined",
        [](Sv& s) { s.security_opt = {"apparmor:unconfined"}; }),
      S("unconfined", "security_opt: label=disable", [](Sv& s) { s.security_opt = {"label=disable"}; }),
      S("unconfined", "security_opt: label:disable", [](Sv& s) { s.security_opt = {"label:disable"}; }),
      S("unconfined", "security_opt: label=type:spc_t", [](Sv& s) { s.security_opt = {"label=type:spc_t"}; }),
      S("unconfined", "security_opt: label:type=spc_t", [](Sv& s) { s.security_opt = {"label:type=spc_t"}; }),
      S("unconfined", "security_opt: label=type:unconfined_t",
        [](Sv& s) { s.security_opt = {"label=type:unconfined_t"}; }),
      S("unconfined", "security_opt: unmask=ALL", [](Sv& s) { s.security_opt = {"unmask=ALL"}; }),
      S("unconfined", "security_opt: systempaths=unconfined",
        [](Sv& s) { s.security_opt = {"systempaths=unconfined"}; }),
      S("security_opt", "security_opt: label=nested", [](Sv& s) { s.security_opt = {"label=nested"}; }),
      S("security_opt", "security_opt: mask=/proc/x", [](Sv& s) { s.security_opt = {"mask=/proc/x"}; }),
      S("security_opt", "security_opt: proc-opts=hidepid=0",
        [](Sv& s) { s.security_opt = {"proc-opts=hidepid=0"}; }),
      S("security_opt", "security_opt: no-new-privileges:maybe",
        [](Sv& s) { s.security_opt = {"no-new-privileges:maybe"}; }),
      // Host namespaces in any spelling.
      S("host_namespaces", "pid: host", [](Sv& s) { s.pid = "host"; }),
      S("host_namespaces", "pid: ns:/proc/1/ns/pid", [](Sv& s) { s.pid = "ns:/proc/1/ns/pid"; }),
      S("host_namespaces", "pid: path:/proc/1/ns/pid", [](Sv& s) { s.pid = "path:/proc/1/ns/pid"; }),
      S("host_namespaces", "ipc: path:/proc/1/ns/ipc", [](Sv& s) { s.ipc = "path:/proc/1/ns/ipc"; }),
      S("host_namespaces", "ipc: host", [](Sv& s) { s.ipc = "host"; }),
      S("host_namespaces", "ipc: ns:/proc/1/ns/ipc", [](Sv& s) { s.ipc = "ns:/proc/1/ns/ipc"; }),
      S("host_namespaces", "network_mode: host", [](Sv& s) { s.network_mode = "host"; }),
      S("host_namespaces", "network_mode: host:eth0", [](Sv& s) { s.network_mode = "host:eth0"; }),
      S("host_namespaces", "network_mode: ns:/proc/1/ns/net",
        [](Sv& s) { s.network_mode = "ns:/proc/1/ns/net"; }),
      S("host_namespaces", "network_mode: slirp4netns:allow_host_loopback=true",
        [](Sv& s) { s.network_mode = "slirp4netns:allow_host_loopback=true"; }),
      S("host_namespaces", "userns_mode: host", [](Sv& s) { s.userns_mode = "host"; }),
      S("host_namespaces", "userns_mode: ns:/proc/1/ns/user",
        [](Sv& s) { s.userns_mode = "ns:/proc/1/ns/user"; }),
      S("host_namespaces", "pid: bogus", [](Sv& s) { s.pid = "bogus"; }),
      // Joining a container that is not a service of this stack (podcd's own included).
      S("join_containers", "pid: container:other_db_1", [](Sv& s) { s.pid = "container:other_db_1"; }),
      S("join_containers", "network_mode: container:podcd_podcd_1",
        [](Sv& s) { s.network_mode = "container:podcd_podcd_1"; }),
      S("join_containers", "ipc: container:other_db_1", [](Sv& s) { s.ipc = "container:other_db_1"; }),
      S("join_containers", "userns_mode: container:other_db_1",
        [](Sv& s) { s.userns_mode = "container:other_db_1"; }),
      S("join_containers", "network_mode: service:elsewhere",
        [](Sv& s) { s.network_mode = "service:elsewhere"; }),
      // Devices, privileged.
      S("devices", "devices: /dev/vda",
        [](Sv& s) {
          s.devices = {Device{"/dev/vda", "", ""}};
        }),
      S("privileged", "privileged: true", [](Sv& s) { s.privileged = true; }),
      // Host binds.
      S("host_binds", "volumes: /srv/data", [](Sv& s) { s.volumes = {Bind("/srv/data")}; }),
      S("host_binds", "volumes: /etc/shadow", [](Sv& s) { s.volumes = {Bind("/etc/shadow", true)}; }),
      S("host_binds_rw", "volumes: /etc/localtime", [](Sv& s) { s.volumes = {Bind("/etc/localtime")}; }),
      S("host_binds_rw", "volumes: /etc/timezone", [](Sv& s) { s.volumes = {Bind("/etc/timezone/")}; }),
      S("host_root", "volumes: /", [](Sv& s) { s.volumes = {Bind("/", true)}; }),
      S("host_root", "volumes: /etc/..", [](Sv& s) { s.volumes = {Bind("/etc/..", true)}; }),
      S("podman_socket", "volumes: /run/podman/podman.sock",
        [](Sv& s) { s.volumes = {Bind("/run/podman/podman.sock")}; }),
      S("podman_socket", "volumes: /run", [](Sv& s) { s.volumes = {Bind("/run", true)}; }),
      S("podman_socket", "volumes: /var/run/docker.sock",
        [](Sv& s) { s.volumes = {Bind("/var/run/docker.sock")}; }),
      S("podman_socket", "volumes: /run/user/1000",
        [](Sv& s) { s.volumes = {Bind("/run/user/1000", true)}; }),
      S("host_binds", "logging.options.path: /etc/cron.d/x",
        [](Sv& s) {
          s.logging = Logging{"k8s-file", {{"path", "/etc/cron.d/x"}}};
        }),
      // Sysctls outside the namespaced set.
      S("sysctls", "sysctls: kernel.core_pattern",
        [](Sv& s) {
          s.sysctls = {{"kernel.core_pattern", "|/x"}};
        }),
      S("sysctls", "sysctls: kernel/modprobe",
        [](Sv& s) {
          s.sysctls = {{"kernel/modprobe", "/x"}};
        }),
      S("sysctls", "sysctls: vm.overcommit_memory",
        [](Sv& s) {
          s.sysctls = {{"vm.overcommit_memory", "1"}};
        }),
      // Named volumes: a driver, or driver_opts other than tmpfs ones.
      Volume("volume_drivers", {{"type", "bind"}, {"device", "/etc"}}),
      Volume("volume_drivers", {{"type", "ext4"}, {"device", "/dev/vda"}}),
      Volume("volume_drivers", {{"type", "overlay"}, {"device", "overlay"}, {"o", "lowerdir=/etc:/usr"}}),
      Volume("volume_drivers", {{"type", "tmpfs"}, {"device", "/dev/vda"}}),
      Volume("volume_drivers", {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m,lowerdir=/etc"}}),
      Volume("volume_drivers", {{"type", "nfs"}, {"o", "addr=10.0.0.1"}, {"device", ":/export"}}),
      Volume("volume_drivers", {}, "rexray"),
      Volume("host_root", {{"type", "none"}, {"o", "bind"}, {"device", "/"}}),
      Volume("host_binds", {{"type", "none"}, {"o", "bind"}, {"device", "/etc"}}),
      Volume("podman_socket", {{"o", "bind"}, {"device", "/run/podman"}}),
      // Networks with host-level drivers or options.
      // Volumes of other stacks (podcd's own state volume), by name or as external.
      {"shared_volumes", "volumes: data (volume podcd_podcd-state)",
       [](Stack& st) {
         VolumeDef d;
         d.name = "podcd_podcd-state";
         st.volumes["data"] = d;
         Svc(st, [](Service& s) { s.volumes = {NamedVolume("data")}; });
       }},
      {"shared_volumes", "volumes: data (volume other_data)",
       [](Stack& st) {
         VolumeDef d;
         d.name = "other_data";
         d.external = true;
         st.volumes["data"] = d;
         Svc(st, [](Service& s) { s.volumes = {NamedVolume("data")}; });
       }},
      Network("macvlan", {{"parent", "eth0"}}),
      Network("ipvlan", {}),
      Network("host", {}),
      Network("bridge", {{"com.docker.network.bridge.name", "br0"}}),
  };
}

}  // namespace

TEST_CASE(
    "allow-list: each escape is refused, names key, value, rule and allowance, and its rule alone permits "
    "it") {
  for (const auto& c : Escapes()) {
    INFO(c.rule << " / " << c.what);
    Stack st = WebStack(Service{});
    c.set(st);
    PolicySettings p = Defaults();
    auto v = CheckPolicy(st, p);
    REQUIRE(!v.empty());
    for (const auto& x : v) {
      CHECK(x.rule == c.rule);
      CHECK(x.service == "app");
      CHECK(x.reason.starts_with("service app: " + c.what));
      CHECK(x.reason.find(" is refused by policy (") != std::string::npos);
      CHECK(x.reason.ends_with("; allow rule " + c.rule + " for stack web to permit it)"));
    }
    p.allow["web"] = {c.rule};
    CHECK(CheckPolicy(st, p).empty());
    PolicySettings other = Defaults();
    other.allow["api"] = {c.rule};
    CHECK(!CheckPolicy(st, other).empty());
  }
}

TEST_CASE("allow-list: the refusal reads as the issue asks") {
  Service s;
  s.cap_add = {"SYS_MODULE"};
  auto v = CheckPolicy(WebStack(s), Defaults());
  REQUIRE(v.size() == 1);
  CHECK(v[0].reason ==
        "service app: cap_add: SYS_MODULE is refused by policy (beyond Docker's default capabilities; allow "
        "rule "
        "capabilities for stack web to permit it)");
}

TEST_CASE("allow-list: the benign forms pass with the default settings") {
  Service s;
  s.cap_add = {"NET_BIND_SERVICE", "CHOWN", "cap_kill", "Setuid"};
  s.security_opt = {"no-new-privileges",      "no-new-privileges:true", "no-new-privileges=true",
                    "label=type:container_t", "label:level:s0:c1,c2",   "label=user:system_u",
                    "label=role:system_r"};
  s.volumes = {Bind("/etc/localtime", true), Bind("/etc/timezone", true)};
  Mount repo_bind = Bind("/repo/services/web/html");
  repo_bind.repo_path = "services/web/html";
  s.volumes.push_back(repo_bind);
  s.volumes.push_back(NamedVolume("cache"));
  s.volumes.push_back(NamedVolume("plain"));
  s.network_mode = "service:db";
  s.pid = "service:db";
  s.ipc = "container:web-cache";
  s.userns_mode = "keep-id:uid=1000";
  s.sysctls = {{"net.core.somaxconn", "1024"},
               {"kernel.shmmax", "1"},
               {"fs.mqueue.msg_max", "10"},
               {"kernel.sem", "1"}};
  s.logging = Logging{"json-file", {{"max-size", "10m"}}};
  Stack st = WebStack(s);
  VolumeDef tmpfs;
  tmpfs.name = "web_cache";
  tmpfs.driver_opts = {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=64m"}};
  st.volumes["cache"] = tmpfs;
  VolumeDef plain;
  plain.name = "web_plain";
  plain.driver = "local";
  st.volumes["plain"] = plain;
  for (auto& other : st.services) {
    if (other.name != "db") continue;
    other.ipc = "shareable";
    NetworkDef net;
    net.driver = "bridge";
    net.driver_opts = {{"mtu", "1400"}, {"isolate", "true"}};
    st.networks["back"] = net;
    other.networks = {{"back", {}}};
  }
  auto v = CheckPolicy(st, Defaults());
  for (const auto& x : v) INFO(x.reason);
  CHECK(v.empty());
  // The compose default container name of a service of the same stack joins too.
  Service joiner;
  joiner.network_mode = "container:web_db_1";
  CHECK(CheckPolicy(WebStack(joiner), Defaults()).empty());
  Service tmpfs_opts;
  tmpfs_opts.volumes = {NamedVolume("t")};
  Stack with_opts = WebStack(tmpfs_opts);
  VolumeDef t;
  t.name = "web_t";
  t.driver_opts = {{"type", "tmpfs"}, {"o", "size=64m,mode=1777,uid=1000,nosuid"}};
  with_opts.volumes["t"] = t;
  CHECK(CheckPolicy(with_opts, Defaults()).empty());
}

TEST_CASE("allow-list: net.* sysctls only in a network namespace of the container's own") {
  Service s;
  s.network_mode = "host";
  s.sysctls = {{"net.ipv4.ip_forward", "1"}};
  PolicySettings p = Defaults();
  p.allow["web"] = {"host_namespaces"};
  auto v = CheckPolicy(WebStack(s), p);
  REQUIRE(v.size() == 1);
  CHECK(v[0].rule == "sysctls");
  s.network_mode = "none";
  CHECK(CheckPolicy(WebStack(s), p).empty());
  Service ipc;
  ipc.ipc = "host";
  ipc.sysctls = {{"kernel.shmmax", "1"}};
  v = CheckPolicy(WebStack(ipc), p);
  REQUIRE(v.size() == 1);
  CHECK(v[0].rule == "sysctls");
}

TEST_CASE("allow-list: host binds are resolved with their symlinks at check time") {
  PolicySettings p = Defaults();
  p.allowed_bind_roots.push_back("/srv/data");
  Service s;
  s.volumes = {Bind("/srv/data/app", true)};
  CHECK(CheckPolicy(WebStack(s), p).empty());
  // A symlink below an allowed root (a container that writes the root can make one).
  p.resolve = Links({{"/srv/data/app", "/etc"}});
  auto v = CheckPolicy(WebStack(s), p);
  REQUIRE(v.size() == 1);
  CHECK(v[0].rule == "host_binds");
  CHECK(v[0].reason.find("resolves to /etc") != std::string::npos);
  p.resolve = Links({{"/srv/data/app", "/run/podman"}});
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "podman_socket");
  p.resolve = Links({{"/srv/data/app", "/"}});
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "host_root");
  // An allowed root that is itself a symlink: what it resolves to is allowed too.
  p.resolve = Links({{"/srv/data", "/mnt/disk/data"}});
  CHECK(CheckPolicy(WebStack(s), p).empty());
  // /etc/localtime is a symlink on most hosts; only root can change it: read-only it passes.
  p.resolve = Links({{"/etc/localtime", "/usr/share/zoneinfo/Europe/Berlin"}});
  s.volumes = {Bind("/etc/localtime", true)};
  CHECK(CheckPolicy(WebStack(s), p).empty());
  s.volumes = {Bind("/etc/localtime")};
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "host_binds_rw");
}

TEST_CASE("allow-list: writable binds below allowed roots need host_binds_rw; host_binds allows any path") {
  PolicySettings p = Defaults();
  p.allowed_bind_roots.push_back("/srv/data");
  Service s;
  s.volumes = {Bind("/srv/data/app")};
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "host_binds_rw");
  p.allow["web"] = {"host_binds_rw"};
  CHECK(CheckPolicy(WebStack(s), p).empty());
  s.volumes = {Bind("/srv/elsewhere")};
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "host_binds");
  p.allow["web"] = {"host_binds"};
  CHECK(CheckPolicy(WebStack(s), p).empty());
  s.volumes = {Bind("/srv/data/app")};
  CHECK(CheckPolicy(WebStack(s), p).empty());
  // host_binds does not reach the socket nor the root.
  s.volumes = {Bind("/run/podman/podman.sock")};
  CHECK(CheckPolicy(WebStack(s), p)[0].rule == "podman_socket");
}

TEST_CASE("CheckBindNow: a bind swapped for a symlink after the plan is refused right before create") {
  PolicySettings p = Defaults();
  p.allowed_bind_roots.push_back("/srv/data");
  p.resolve = Links({});
  BindGuard g = MakeBindGuard("web", "web", {"/repo", "/secrets"}, p);
  // Still inside the repository: a repository file, checked at load.
  CHECK(!CheckBindNow(g, "app", "/repo/services/web/data", "/repo/services/web/data", false));
  CHECK(!CheckBindNow(g, "app", "/secrets/web.env", "/secrets/web.env", true));
  // Now a symlink out of it: a host bind.
  auto v = CheckBindNow(g, "app", "/repo/services/web/data", "/etc", false);
  REQUIRE(v);
  CHECK(v->rule == "host_binds");
  CHECK(v->reason ==
        "service app: volumes: /repo/services/web/data is refused by policy (a host path outside "
        "policy.allowed_bind_roots (it resolves to /etc); allow rule host_binds for stack web to permit it)");
  CHECK(CheckBindNow(g, "app", "/srv/data/x", "/run/podman/podman.sock", true)->rule == "podman_socket");
  CHECK(CheckBindNow(g, "app", "/srv/data/x", "/srv/data/y", false)->rule == "host_binds_rw");
  CHECK(!CheckBindNow(g, "app", "/srv/data/x", "/srv/data/y", true));
  CHECK(!CheckBindNow(g, "app", "/etc/localtime", "/usr/share/zoneinfo/UTC", true));
  // The stack's allowances, by directory or compose name.
  p.allow["web"] = {"host_binds"};
  CHECK(!CheckBindNow(MakeBindGuard("web", "web", {"/repo"}, p), "app", "/repo/x", "/etc", false));
}

TEST_CASE("allow-list: repository binds: never .git, writable only inside the stack's own directory") {
  auto repo_bind = [](std::string rel, bool ro) {
    Mount m = Bind("/repo/" + rel, ro);
    m.repo_path = std::move(rel);
    return m;
  };
  Service s;
  s.volumes = {repo_bind("services/web/data", false), repo_bind("services/shared/conf", true),
               repo_bind("services/web", false)};
  Stack st = WebStack(s);
  st.compose_file = "services/web/compose.yml";
  CHECK(CheckPolicy(st, Defaults()).empty());
  for (const auto& [rel, ro, rule] : std::vector<std::tuple<std::string, bool, std::string>>{
           {".git", true, "host_binds"},
           {".git/config", true, "host_binds"},
           {"services/web/.git", true, "host_binds"},
           {"services/podcd", false, "host_binds_rw"},
           {"services/webx", false, "host_binds_rw"},
           {"<secrets>/other.env", false, "host_binds_rw"},
       }) {
    INFO(rel);
    Service bad;
    bad.volumes = {repo_bind(rel, ro)};
    Stack b = WebStack(bad);
    b.compose_file = "services/web/compose.yml";
    auto v = CheckPolicy(b, Defaults());
    REQUIRE(v.size() == 1);
    CHECK(v[0].rule == rule);
  }
}
