#include "core/policy.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace podcd::core {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

template <class Range>
bool In(const Range& set, std::string_view v) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

// Lexically normal, without a trailing slash ("/srv/a/" and "/srv/./a" are "/srv/a").
std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// Whether `path` (normal) is `root` or lies below it.
bool UnderRoot(const std::string& root, const std::string& path) {
  if (root.empty()) return false;
  const std::string r = Normal(root);
  if (r == "/") return true;
  return path == r || (path.size() > r.size() && path.starts_with(r) && path[r.size()] == '/');
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto at = s.find(sep, start);
    if (at == std::string_view::npos) at = s.size();
    if (at > start) out.emplace_back(s.substr(start, at - start));
    start = at + 1;
  }
  return out;
}

// A path that is, holds or leads to a Podman or Docker socket (normal, absolute).
bool ReachesSocket(const std::string& p, const PolicySettings& settings) {
  const std::string name = std::filesystem::path(p).filename().string();
  if (name == "podman.sock" || name == "docker.sock") return true;
  std::vector<std::string> sockets = {"/run/podman/podman.sock", "/var/run/podman/podman.sock",
                                      "/run/docker.sock", "/var/run/docker.sock"};
  std::string configured = settings.podman_socket;
  if (configured.starts_with("unix://")) configured = configured.substr(7);
  if (!configured.empty()) sockets.push_back(Normal(configured));
  // The socket itself, or a directory above it (binding /run binds /run/podman too).
  for (const auto& s : sockets) {
    if (UnderRoot(p, s)) return true;
  }
  if (p == "/run/docker" || p == "/var/run/docker") return true;
  // Rootless sockets: /run/user/<uid>/podman/podman.sock.
  if (p == "/run/user" || (p.starts_with("/run/user/") && p.ends_with("/podman"))) return true;
  return p.starts_with("/run/user/") && std::count(p.begin(), p.end(), '/') == 3;
}

struct Refusal {
  std::string_view rule;
  std::string why;
};
using AllowedFn = std::function<bool(std::string_view)>;

// A host path a container would bind: `written` as the stack gives it, `resolved` what it
// resolves to (both checked: the roots are paths the operator chose, the symlinks below them
// may be the stack's own doing).
std::optional<Refusal> JudgeHostPath(const std::string& written, const std::string& resolved, bool read_only,
                                     const PolicySettings& settings, const AllowedFn& allowed) {
  const std::string p = Normal(written);
  const std::string r = Normal(resolved);
  const std::string via = r != p ? " (it resolves to " + r + ")" : "";
  if (p == "/" || r == "/") {
    if (allowed(kRuleHostRoot)) return std::nullopt;
    return Refusal{kRuleHostRoot, "the host's root" + via};
  }
  if (ReachesSocket(p, settings) || ReachesSocket(r, settings)) {
    if (allowed(kRulePodmanSocket)) return std::nullopt;
    return Refusal{kRulePodmanSocket, "the Podman socket is root on the host" + via};
  }
  if (read_only && In(kDefaultReadOnlyBinds, p)) return std::nullopt;
  if (allowed(kRuleHostBinds)) return std::nullopt;
  auto covered = [&](const std::string& path) {
    return std::any_of(settings.allowed_bind_roots.begin(), settings.allowed_bind_roots.end(),
                       [&](const auto& root) {
                         return UnderRoot(root, path) ||
                                (settings.resolve && UnderRoot(settings.resolve(Normal(root)), path));
                       });
  };
  if (!covered(p) || !covered(r))
    return Refusal{kRuleHostBinds, "a host path outside policy.allowed_bind_roots" + via};
  if (!read_only && !allowed(kRuleHostBindsRw)) {
    return Refusal{kRuleHostBindsRw,
                   "writable: host paths under policy.allowed_bind_roots are bound read-only"};
  }
  return std::nullopt;
}

std::string Reason(const std::string& service, const std::string& what, const std::string& why,
                   std::string_view rule, const std::string& stack) {
  return "service " + service + ": " + what + " is refused by policy (" + why + "; allow rule " +
         std::string(rule) + " for stack " + stack + " to permit it)";
}

// The rules `stack` is allowed, by directory name and by compose name.
std::vector<std::string> AllowedRules(const std::string& dir, const std::string& name,
                                      const PolicySettings& s) {
  std::vector<std::string> allowed;
  if (auto it = s.allow.find(dir); it != s.allow.end()) allowed = it->second;
  if (name != dir) {
    if (auto it = s.allow.find(name); it != s.allow.end())
      allowed.insert(allowed.end(), it->second.begin(), it->second.end());
  }
  return allowed;
}

// Joins a namespace (pid, ipc, network_mode, userns_mode): a mode of the container's own, one of
// a service of the same stack, or a refusal.
std::optional<Refusal> JudgeNamespace(std::string_view key, const std::string& v, const Stack& stack) {
  if (v.empty() || v == "private") return std::nullopt;
  if (v == "host" || v.starts_with("host:")) return Refusal{kRuleHostNamespaces, "the host's namespace"};
  if (v.starts_with("ns:") || v.starts_with("path:")) {
    return Refusal{kRuleHostNamespaces, "a namespace joined by path (the host's included)"};
  }
  if (v.starts_with("service:")) {
    const std::string target = v.substr(8);
    if (stack.Find(target) != nullptr || In(stack.disabled, target)) return std::nullopt;
    return Refusal{kRuleJoinContainers, "not a service of stack " + stack.dir};
  }
  if (v.starts_with("container:")) {
    const std::string target = v.substr(10);
    for (const auto& s : stack.services) {
      // As reconcile::ContainerName names them.
      if (target == (s.container_name.empty() ? stack.name + "_" + s.name + "_1" : s.container_name))
        return std::nullopt;
    }
    return Refusal{kRuleJoinContainers, "a container that is not a service of stack " + stack.dir};
  }
  static const std::map<std::string_view, std::vector<std::string_view>> kOwn = {
      {"pid", {}},
      {"ipc", {"shareable", "none"}},
      {"network_mode", {"bridge", "none", "slirp4netns", "pasta"}},
      {"userns_mode", {"auto", "keep-id", "nomap"}},
  };
  const auto& own = kOwn.at(key);
  if (In(own, v)) return std::nullopt;
  if (key == "userns_mode" && (v.starts_with("auto:") || v.starts_with("keep-id:"))) return std::nullopt;
  if (key == "network_mode" && (v.starts_with("slirp4netns:") || v.starts_with("pasta:"))) {
    return Refusal{kRuleHostNamespaces, "network options can open the host's own addresses to the container"};
  }
  return Refusal{kRuleHostNamespaces, "not a namespace of the container's own or of its stack"};
}

// A security_opt entry: no-new-privileges and SELinux labels of a confined type pass.
std::optional<Refusal> JudgeSecurityOpt(const std::string& o) {
  const auto sep = o.find_first_of("=:");
  const std::string key = o.substr(0, sep);
  const std::string value = sep == std::string::npos ? "" : o.substr(sep + 1);
  if (key == "no-new-privileges" && (value.empty() || value == "true" || value == "false"))
    return std::nullopt;
  if (key == "seccomp" || key == "apparmor") {
    if (value == "unconfined") return Refusal{kRuleUnconfined, "turns off " + key};
    return Refusal{kRuleSecurityOpt, "replaces the default " + key + " profile"};
  }
  if (key == "systempaths" || key == "unmask")
    return Refusal{kRuleUnconfined, "unmasks the host's /proc and /sys paths"};
  if (key == "label") {
    if (value == "disable") return Refusal{kRuleUnconfined, "turns off SELinux separation"};
    const auto lsep = value.find_first_of("=:");
    const std::string field = value.substr(0, lsep);
    const std::string type = lsep == std::string::npos ? "" : value.substr(lsep + 1);
    if (field == "type" && (type == "spc_t" || type == "unconfined_t" || type == "container_runtime_t")) {
      return Refusal{kRuleUnconfined, "an unconfined SELinux type"};
    }
    if (field == "user" || field == "role" || field == "type" || field == "level") return std::nullopt;
  }
  return Refusal{kRuleSecurityOpt,
                 "only no-new-privileges and SELinux user, role, type and level labels are allowed"};
}

// Sysctls the container's own namespaces hold (Docker's namespaced set); net.* only in a
// network namespace of its own, the IPC ones only in an IPC namespace of its own.
std::optional<Refusal> JudgeSysctl(std::string name, const Service& s) {
  std::replace(name.begin(), name.end(), '/', '.');
  auto shared_with_host = [](const std::string& mode) {
    return mode == "host" || mode.starts_with("host:") || mode.starts_with("ns:") ||
           mode.starts_with("path:");
  };
  const bool ipc = name.starts_with("kernel.shm") || name.starts_with("kernel.msg") || name == "kernel.sem" ||
                   name.starts_with("fs.mqueue.");
  if (ipc && !shared_with_host(s.ipc)) return std::nullopt;
  if (name.starts_with("net.") && !shared_with_host(s.network_mode)) return std::nullopt;
  if (ipc || name.starts_with("net.")) return Refusal{kRuleSysctls, "the namespace it sets is the host's"};
  return Refusal{kRuleSysctls, "not a sysctl of the container's own namespaces"};
}

bool AllTokens(const std::string& o, std::initializer_list<std::string_view> plain,
               std::initializer_list<std::string_view> keyed) {
  for (const auto& t : Split(o, ',')) {
    const bool ok =
        In(plain, t) || std::any_of(keyed.begin(), keyed.end(), [&](auto k) { return t.starts_with(k); });
    if (!ok) return false;
  }
  return true;
}

bool OnlyKeys(const std::map<std::string, std::string>& m, std::initializer_list<std::string_view> keys) {
  return std::all_of(m.begin(), m.end(), [&](const auto& kv) { return In(keys, kv.first); });
}

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

// A local volume of tmpfs options only: memory, nothing of the host's.
bool TmpfsOnly(const std::map<std::string, std::string>& opts) {
  const std::string device = Get(opts, "device");
  return OnlyKeys(opts, {"type", "device", "o"}) && Get(opts, "type") == "tmpfs" &&
         (device.empty() || device == "tmpfs") &&
         AllTokens(Get(opts, "o"), {"noexec", "nosuid", "nodev", "ro", "rw"},
                   {"size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks="});
}

// A local volume that binds a host directory (`o: bind`, `device: <path>`): checked as a bind.
bool BindVolume(const std::map<std::string, std::string>& opts) {
  const std::string type = Get(opts, "type");
  const auto tokens = Split(Get(opts, "o"), ',');
  return OnlyKeys(opts, {"type", "device", "o"}) && (type.empty() || type == "none" || type == "bind") &&
         !Get(opts, "device").empty() && (In(tokens, "bind") || In(tokens, "rbind")) &&
         AllTokens(Get(opts, "o"),
                   {"bind", "rbind", "ro", "rw", "private", "rprivate", "slave", "rslave", "nosuid", "nodev",
                    "noexec"},
                   {});
}

std::string Describe(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

class Checker {
 public:
  Checker(const Stack& stack, const PolicySettings& settings)
      : stack_(stack), settings_(settings), allowed_(AllowedRules(stack.dir, stack.name, settings)) {}

  std::vector<Violation> Run() {
    for (const auto& s : stack_.services) {
      Privileges(s);
      Namespaces(s);
      for (const auto& m : s.volumes) Volume(s, m);
      Networks(s);
      Runtime(s);
    }
    HostHooks();
    return std::move(out_);
  }

 private:
  bool Allowed(std::string_view rule) const { return In(allowed_, rule); }

  void Add(const Service& s, std::string_view rule, const std::string& what, const std::string& why) {
    if (Allowed(rule)) return;
    out_.push_back(Violation{s.name, std::string(rule), Reason(s.name, what, why, rule, stack_.dir)});
  }
  void Add(const Service& s, const std::optional<Refusal>& r, const std::string& what) {
    if (r) Add(s, r->rule, what, r->why);
  }

  void Privileges(const Service& s) {
    if (s.privileged) Add(s, kRulePrivileged, "privileged: true", "every device and capability of the host");
    for (const auto& c : s.cap_add) {
      std::string u = Upper(c);
      if (u.starts_with("CAP_")) u = u.substr(4);
      if (u == "ALL" || u == "SYS_ADMIN")
        Add(s, kRuleCapSysAdmin, "cap_add: " + c,
            u == "ALL" ? "every capability" : "administers the host's kernel");
      else if (!In(kDefaultCapabilities, u))
        Add(s, kRuleCapabilities, "cap_add: " + c, "beyond Docker's default capabilities");
    }
    for (const auto& d : s.devices) Add(s, kRuleDevices, "devices: " + d.host_path, "a device of the host");
    for (const auto& o : s.security_opt) Add(s, JudgeSecurityOpt(o), "security_opt: " + o);
    for (const auto& [name, value] : s.sysctls) Add(s, JudgeSysctl(name, s), "sysctls: " + name);
    if (s.logging) {
      for (const auto& [k, v] : s.logging->options) {
        if (Upper(k) == "PATH")
          Add(s, kRuleHostBinds, "logging.options.path: " + v, "writes a file of the host");
      }
    }
  }

  void Namespaces(const Service& s) {
    for (auto [key, value] : {std::pair<std::string_view, const std::string*>{"pid", &s.pid},
                              {"ipc", &s.ipc},
                              {"network_mode", &s.network_mode},
                              {"userns_mode", &s.userns_mode}}) {
      Add(s, JudgeNamespace(key, *value, stack_), std::string(key) + ": " + *value);
    }
  }

  std::string Resolve(const std::string& path) const {
    return settings_.resolve ? settings_.resolve(Normal(path)) : Normal(path);
  }

  void HostPath(const Service& s, const std::string& path, bool read_only, const std::string& what) {
    auto allowed = [this](std::string_view rule) { return Allowed(rule); };
    Add(s, JudgeHostPath(path, Resolve(path), read_only, settings_, allowed), what);
  }

  // A bind of the repository's own files: never its git metadata (what it says decides what
  // podcd deploys, for every stack); writable only inside the stack's own directory (another
  // stack's untracked files, a `.env` say, would change what that stack deploys).
  void RepoBind(const Service& s, const Mount& m) {
    const auto parts = Split(m.repo_path, '/');
    if (In(parts, ".git")) {
      return Add(s, kRuleHostBinds, "volumes: " + m.source,
                 "the repository's git metadata decides what podcd deploys for every stack");
    }
    if (m.read_only) return;
    const std::string own = stack_.compose_file.empty()
                                ? "services/" + stack_.dir
                                : std::filesystem::path(stack_.compose_file).parent_path().generic_string();
    if (m.repo_path == own || m.repo_path.starts_with(own + "/")) return;
    Add(s, kRuleHostBindsRw, "volumes: " + m.source,
        "writable outside the stack's own directory " + own + ": other stacks' files are read-only to it");
  }

  void Volume(const Service& s, const Mount& m) {
    if (m.type == MountType::kBind && m.repo_path.empty())
      HostPath(s, m.source, m.read_only, "volumes: " + m.source);
    if (m.type == MountType::kBind && !m.repo_path.empty()) RepoBind(s, m);
    if (m.type != MountType::kVolume || m.source.empty()) return;
    auto v = stack_.volumes.find(m.source);
    if (v == stack_.volumes.end()) return;
    const VolumeDef& def = v->second;
    const std::string what = "volumes: " + m.source;
    // Volumes are found by name: one named outside the stack's project is another stack's data
    // (podcd's own state volume included), whoever created it.
    if (def.external || !def.name.starts_with(stack_.dir + "_")) {
      Add(s, kRuleSharedVolumes, what + " (volume " + def.name + ")",
          def.external ? "an external volume: data the stack does not own"
                       : "named outside stack " + stack_.dir + "'s project: another stack's data");
    }
    if (def.external) return;
    if (!def.driver.empty() && def.driver != "local") {
      Add(s, kRuleVolumeDrivers, what + " (driver " + def.driver + ")", "a volume driver other than local");
    }
    if (def.driver_opts.empty() || TmpfsOnly(def.driver_opts)) return;
    if (BindVolume(def.driver_opts)) {
      const bool ro = m.read_only || In(Split(Get(def.driver_opts, "o"), ','), "ro");
      const std::string device = Get(def.driver_opts, "device");
      return HostPath(s, device, ro, what + " (a bind of host path " + device + ")");
    }
    Add(s, kRuleVolumeDrivers, what + " (driver_opts " + Describe(def.driver_opts) + ")",
        "mounts a file system or device of the host; only tmpfs options are allowed");
  }

  void Networks(const Service& s) {
    static const std::initializer_list<std::string_view> kBridgeOptions = {
        "mtu", "com.docker.network.driver.mtu", "isolate", "metric", "no_default_route"};
    for (const auto& [key, _] : s.networks) {
      auto n = stack_.networks.find(key);
      if (n == stack_.networks.end() || n->second.external || !checked_networks_.insert(key).second) continue;
      const NetworkDef& def = n->second;
      if (!def.driver.empty() && def.driver != "bridge") {
        Add(s, kRuleNetworkDrivers, "networks: " + key + " (driver " + def.driver + ")",
            "a host-level network driver: containers on the host's own network");
      }
      for (const auto& [k, v] : def.driver_opts) {
        if (In(kBridgeOptions, k)) continue;
        Add(s, kRuleNetworkDrivers, "networks: " + key + " (driver_opts " + k + "=" + v + ")",
            "only mtu, isolate, metric and no_default_route are allowed");
      }
    }
  }

  // Not an allow rule: which runtimes the host has is the administrator's list, not a stack's.
  void Runtime(const Service& s) {
    if (s.runtime.empty()) return;
    const AllowedRuntimes allowed =
        settings_.runtimes
            ? settings_.runtimes()
            : DecideAllowedRuntimes(settings_.allowed_runtimes, std::nullopt, "no Podman was asked");
    if (In(allowed.names, s.runtime)) return;
    std::string listed;
    for (const auto& r : allowed.names) listed += (listed.empty() ? "" : ", ") + r;
    out_.push_back(
        Violation{s.name, "policy.allowed_runtimes",
                  "service " + s.name + ": runtime: " + s.runtime +
                      " is refused by policy (allowed: " + (listed.empty() ? std::string("none") : listed) +
                      ", from " + allowed.source + "; policy.allowed_runtimes sets the list)"});
  }

  // A host hook runs a command of the repository on podcd's own host, as podcd's user.
  void HostHooks() {
    for (const auto& h : stack_.hooks) {
      if (!h.host || Allowed(kRuleHostHooks)) continue;
      out_.push_back(Violation{h.service, std::string(kRuleHostHooks),
                               "hook " + h.name + ": host: true is refused by policy (runs a command on " +
                                   "podcd's own host; allow rule host_hooks for stack " + stack_.dir +
                                   " to permit it)"});
    }
  }

  const Stack& stack_;
  const PolicySettings& settings_;
  const std::vector<std::string> allowed_;
  std::set<std::string> checked_networks_;
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> CheckPolicy(const Stack& stack, const PolicySettings& settings) {
  return Checker(stack, settings).Run();
}

BindGuard MakeBindGuard(const std::string& stack_dir, const std::string& stack_name,
                        std::vector<std::string> inside, PolicySettings settings) {
  BindGuard g;
  g.stack = stack_dir;
  g.allowed = AllowedRules(stack_dir, stack_name, settings);
  g.inside = std::move(inside);
  g.settings = std::move(settings);
  return g;
}

std::optional<Violation> CheckBindNow(const BindGuard& guard, const std::string& service,
                                      const std::string& source, const std::string& resolved,
                                      bool read_only) {
  const std::string r = Normal(resolved);
  for (const auto& root : guard.inside) {
    if (UnderRoot(root, r)) return std::nullopt;
  }
  auto allowed = [&](std::string_view rule) { return In(guard.allowed, rule); };
  auto refusal = JudgeHostPath(source, resolved, read_only, guard.settings, allowed);
  if (!refusal) return std::nullopt;
  return Violation{service, std::string(refusal->rule),
                   Reason(service, "volumes: " + source, refusal->why, refusal->rule, guard.stack)};
}

}  // namespace podcd::core
