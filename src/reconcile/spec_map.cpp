#include "reconcile/spec_map.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "core/plan.hpp"
#include "util/ip.hpp"
#include "util/sha256.hpp"

namespace podcd::reconcile {
namespace {

std::vector<std::string> MountOptions(const core::Mount& m) {
  std::vector<std::string> o;
  o.push_back(m.read_only ? "ro" : "rw");
  if (!m.selinux.empty()) o.push_back(m.selinux);
  if (m.chown) o.push_back("U");
  if (!m.propagation.empty()) o.push_back(m.propagation);
  if (m.nocopy) o.push_back("nocopy");
  return o;
}

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// "10m", "512k", "1g", "2048" (bytes).
std::optional<std::int64_t> ParseSize(const std::string& text) {
  std::int64_t n = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
  if (i == 0 || n > (std::int64_t{1} << 40)) return std::nullopt;
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.ends_with("b")) unit.pop_back();
  if (unit.empty()) return n;
  if (unit == "k") return n << 10;
  if (unit == "m") return n << 20;
  if (unit == "g") return n << 30;
  return std::nullopt;
}

podman::PullPolicy PullFor(const std::string& p) {
  if (p == "always") return podman::PullPolicy::kAlways;
  if (p == "newer") return podman::PullPolicy::kNewer;
  return podman::PullPolicy::kMissing;
}

}  // namespace

std::string ContainerName(const core::Stack& stack, const core::Service& service) {
  if (!service.container_name.empty()) return service.container_name;
  return stack.name + "_" + service.name + "_1";
}

namespace {

// Built by podcd (compose loader: no image, or pull_policy: build).
void MapBuild(const core::Stack& stack, const core::Service& s, ServiceJob& job) {
  podman::ContainerSpec& spec = job.spec;
  if (s.build && !s.build->context_key.empty()) {
    // Built by podcd (compose loader: no image, or pull_policy: build). The tag names the
    // build's content: the context's digest and every build setting.
    const auto& b = *s.build;
    auto ctx = stack.files.find(b.context_key);
    std::string content = (ctx == stack.files.end() ? std::string() : ctx->second.sha256) + "\n" +
                          b.dockerfile + "\n" + b.target;
    for (const auto& [k, v] : b.args) content += "\narg " + k + "=" + v;
    for (const auto& [k, v] : b.labels) content += "\nlabel " + k + "=" + v;
    podman::BuildRequest request;
    request.context_dir = b.context_dir;
    request.dockerfile = b.dockerfile;
    request.args = b.args;
    request.target = b.target;
    request.labels = b.labels;
    request.tags = {"localhost/podcd-build/" + stack.name + "_" + s.name + ":" +
                    Sha256Hex(content).substr(0, 16)};
    if (!s.image.empty()) request.tags.push_back(s.image);
    spec.image = request.tags.front();
    job.build = std::move(request);
  }
}

void MapCommandAndLabels(const core::Stack& stack, const core::Service& s, const DeployLabels& labels,
                         podman::ContainerSpec& spec) {
  if (s.command) spec.command = *s.command;
  if (s.entrypoint) spec.entrypoint = *s.entrypoint;
  spec.env = s.environment;
  spec.labels = s.labels;
  spec.labels[std::string(core::kLabelStack)] = stack.name;
  spec.labels[std::string(core::kLabelService)] = s.name;
  spec.labels[std::string(core::kLabelFingerprint)] = labels.fingerprint;
  spec.labels[std::string(core::kLabelFields)] = labels.fields;
  spec.labels[std::string(core::kLabelCommit)] = labels.commit;
  spec.labels[std::string(core::kLabelDeployment)] = labels.deployment;
  spec.labels[std::string(core::kLabelComposeProject)] = stack.name;
  spec.labels[std::string(core::kLabelComposeService)] = s.name;
}

void MapPorts(const core::Service& s, ServiceJob& job) {
  podman::ContainerSpec& spec = job.spec;
  for (const auto& p : s.ports) {
    const auto range =
        static_cast<std::uint16_t>(p.target.end >= p.target.start ? p.target.end - p.target.start + 1 : 1);
    spec.ports.push_back(
        podman::PortMapping{p.host_ip, p.published.start, p.target.start, range, p.protocol});
  }
  // Any published port binds the host (a random one too, but then there is nothing to free).
  job.publishes_host_ports =
      std::any_of(s.ports.begin(), s.ports.end(), [](const core::Port& p) { return p.published.start != 0; });
}

Expected<void> MapMounts(const core::Stack& stack, const core::Service& s, const std::string& where,
                         podman::ContainerSpec& spec) {
  for (const auto& m : s.volumes) {
    switch (m.type) {
      case core::MountType::kBind: spec.binds.push_back({m.source, m.target, MountOptions(m)}); break;
      case core::MountType::kVolume: {
        std::string name;
        if (!m.source.empty()) {
          auto it = stack.volumes.find(m.source);
          name = it != stack.volumes.end() ? it->second.name : m.source;
        }
        spec.volumes.push_back({name, m.target, MountOptions(m)});
        break;
      }
      case core::MountType::kTmpfs: {
        podman::TmpfsMount t{m.target, {}};
        if (m.tmpfs_size > 0) t.options.push_back("size=" + std::to_string(m.tmpfs_size));
        if (m.tmpfs_mode) t.options.push_back("mode=" + std::to_string(*m.tmpfs_mode));
        spec.tmpfs.push_back(t);
        break;
      }
    }
  }
  for (const auto& t : s.tmpfs) {
    auto colon = t.find(':');
    podman::TmpfsMount m{t.substr(0, colon), {}};
    if (colon != std::string::npos) {
      std::string opts = t.substr(colon + 1);
      size_t start = 0;
      while (start <= opts.size()) {
        auto comma = opts.find(',', start);
        if (comma == std::string::npos) comma = opts.size();
        if (comma > start) m.options.push_back(opts.substr(start, comma - start));
        start = comma + 1;
      }
    }
    spec.tmpfs.push_back(m);
  }
  // File-based configs and secrets are read-only binds of the repo (or secrets dir) file.
  auto bind_objects = [&](const std::vector<core::FileObjectRef>& refs,
                          const std::map<std::string, core::FileObjectDef>& defs,
                          const std::string& default_dir) -> Expected<void> {
    for (const auto& r : refs) {
      auto it = defs.find(r.source);
      if (it == defs.end() || it->second.external || it->second.host_path.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "\"" + r.source + "\" must be a file-based definition",
                    where);
      }
      std::string target = r.target.empty() ? default_dir + r.source : r.target;
      if (!target.starts_with("/")) target = default_dir + target;
      spec.binds.push_back({it->second.host_path, target, {"ro"}});
    }
    return {};
  };
  if (auto r = bind_objects(s.configs, stack.configs, "/"); !r) return r;
  return bind_objects(s.secrets, stack.secrets, "/run/secrets/");
}

// `podman run --read-only` (--read-only-tmpfs, on by default) mounts a writable tmpfs on /run,
// /tmp and /var/tmp, where programs write pid files and scratch data; podman-compose gets them
// so. Podman 4.3's API does not: its CLI adds them, with these options. A mount the service
// puts there itself wins, as in Podman. (Configs and secrets below /run sit on top: Podman
// mounts by depth.)
void ReadOnlyTmpfs(podman::ContainerSpec& spec) {
  spec.read_write_tmpfs = true;
  auto mounted = [&](std::string_view dest) {
    auto at = [&](const auto& mounts) {
      return std::any_of(mounts.begin(), mounts.end(), [&](const auto& m) { return m.destination == dest; });
    };
    return at(spec.binds) || at(spec.volumes) || at(spec.tmpfs);
  };
  for (const char* dest : {"/run", "/tmp", "/var/tmp"}) {
    if (!mounted(dest)) spec.tmpfs.push_back({dest, {"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}});
  }
}

// Compose connects a container to its networks by descending priority, so the first (eth0,
// where the default route goes) is the highest; Podman names interfaces in its own order.
// Only when a priority is given: without one, Podman's order stays (and the spec as before).
void InterfaceNames(const core::Service& s, std::vector<podman::NetworkAttachment>& attachments) {
  if (std::none_of(s.networks.begin(), s.networks.end(), [](const auto& n) { return n.second.priority; }))
    return;
  std::vector<std::pair<std::int64_t, std::size_t>> order;  // (priority, index), networks by key
  std::size_t i = 0;
  for (const auto& [key, sn] : s.networks) order.emplace_back(sn.priority.value_or(0), i++);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; k < order.size(); ++k)
    attachments[order[k].second].interface_name = "eth" + std::to_string(k);
}

Expected<void> MapNamespaces(const core::Stack& stack, const core::Service& s, const std::string& where,
                             ServiceJob& job) {
  podman::ContainerSpec& spec = job.spec;
  // network_mode, pid and ipc: "service:<name>" joins that service's container.
  auto namespace_mode = [&](const std::string& mode, const char* key) -> Expected<std::string> {
    if (!mode.starts_with("service:")) return mode;
    const auto* target = stack.Find(mode.substr(8));
    if (target == nullptr)
      return Fail(ErrorCode::kInvalidArgument, std::string(key) + " " + mode + ": no such service", where);
    return "container:" + ContainerName(stack, *target);
  };
  if (s.network_mode.empty()) {
    spec.network_mode = "bridge";
    for (const auto& [key, sn] : s.networks) {
      auto it = stack.networks.find(key);
      podman::NetworkAttachment a;
      a.name = it != stack.networks.end() ? it->second.name : key;
      a.aliases = sn.aliases;
      // Every service is reachable by its service name and its container_name.
      AddUnique(a.aliases, s.name);
      AddUnique(a.aliases, s.container_name);
      AddUnique(a.static_ips, sn.ipv4_address);
      AddUnique(a.static_ips, sn.ipv6_address);
      a.static_mac = sn.mac_address;
      // A fixed address or MAC is the old container's until it stops: no overlap.
      if (!a.static_ips.empty() || !a.static_mac.empty()) job.fixed_address = true;
      spec.networks.push_back(std::move(a));
    }
    InterfaceNames(s, spec.networks);
  } else {
    auto net = namespace_mode(s.network_mode, "network_mode");  // or bridge, none, host (policy decides)
    if (!net) return std::unexpected(net.error());
    spec.network_mode = *net;
  }
  auto pid = namespace_mode(s.pid, "pid");
  if (!pid) return std::unexpected(pid.error());
  spec.pid_mode = *pid;
  auto ipc = namespace_mode(s.ipc, "ipc");
  if (!ipc) return std::unexpected(ipc.error());
  spec.ipc_mode = *ipc;
  for (const std::string* mode : {&spec.network_mode, &spec.pid_mode, &spec.ipc_mode}) {
    if (mode->starts_with("container:")) job.shares_namespace = true;
  }
  spec.userns_mode = s.userns_mode;
  for (const auto& d : s.devices) {
    std::string text = d.host_path;
    if (!d.container_path.empty() || !d.permissions.empty())
      text += ":" + (d.container_path.empty() ? d.host_path : d.container_path);
    if (!d.permissions.empty()) text += ":" + d.permissions;
    spec.devices.push_back(std::move(text));
  }
  return {};
}

Expected<void> MapProcess(const core::Service& s, const std::string& where, ServiceJob& job) {
  podman::ContainerSpec& spec = job.spec;
  spec.hostname = s.hostname;
  spec.user = s.user;
  spec.groups = s.group_add;
  spec.work_dir = s.working_dir;
  if (s.restart.starts_with("on-failure")) {
    spec.restart_policy = "on-failure";
    if (auto colon = s.restart.find(':'); colon != std::string::npos) {
      spec.restart_retries = static_cast<unsigned>(std::stoul(s.restart.substr(colon + 1)));
    }
  } else {
    spec.restart_policy = s.restart;
  }
  if (s.healthcheck) {
    const auto& h = *s.healthcheck;
    if (h.disable || (!h.test.empty() && h.test.front() == "NONE")) {
      spec.healthcheck = podman::HealthConfig{{"NONE"}, {}, {}, {}, 0};
    } else if (!h.test.empty()) {
      spec.healthcheck =
          podman::HealthConfig{h.test, h.interval, h.timeout, h.start_period, static_cast<int>(h.retries)};
      job.has_healthcheck = true;
      job.health_interval = std::chrono::duration_cast<std::chrono::milliseconds>(h.interval);
      job.health_start_period = std::chrono::duration_cast<std::chrono::milliseconds>(h.start_period);
      job.health_retries = h.retries > 0 ? static_cast<int>(h.retries) : 3;
    }
  }
  spec.cap_add = s.cap_add;
  spec.cap_drop = s.cap_drop;
  spec.privileged = s.privileged;
  spec.read_only = s.read_only;
  spec.init = s.init.value_or(false);
  if (spec.init && !spec.pid_mode.empty() && spec.pid_mode != "private") {
    // Podman refuses it at create ("cannot add init binary as PID 1"): say so before anything runs.
    return Fail(ErrorCode::kInvalidArgument,
                "init: true needs the container's own pid namespace, but pid is " + s.pid, where);
  }
  if (!s.stop_signal.empty()) {
    spec.stop_signal = podman::ParseSignal(s.stop_signal);
    if (!spec.stop_signal)
      return Fail(ErrorCode::kInvalidArgument, "stop_signal: unknown signal " + s.stop_signal, where);
  }
  if (s.stop_grace_period) {
    auto secs = std::chrono::ceil<std::chrono::seconds>(*s.stop_grace_period);
    spec.stop_timeout = static_cast<unsigned>(secs.count());
    job.stop_grace = secs;
  }
  spec.extra_hosts = s.extra_hosts;
  if (s.logging) {
    podman::LogConfig log;
    // Docker's json-file is Podman's k8s-file (the same role, the same rotation option).
    log.driver = s.logging->driver == "json-file" ? "k8s-file" : s.logging->driver;
    log.options = s.logging->options;
    if (auto it = log.options.find("max-size"); it != log.options.end()) {
      auto bytes = ParseSize(it->second);
      if (!bytes)
        return Fail(ErrorCode::kInvalidArgument, "logging.options.max-size: not a size: " + it->second,
                    where);
      log.size_bytes = *bytes;
      log.options.erase(it);
    }
    spec.log = std::move(log);
  }
  return {};
}

Expected<void> MapLimits(const core::Service& s, const std::string& where, podman::ContainerSpec& spec) {
  spec.dns_servers = s.dns;
  spec.dns_search = s.dns_search;
  spec.dns_options = s.dns_opt;
  spec.sysctls = s.sysctls;
  for (const auto& [name, u] : s.ulimits) {
    spec.ulimits.push_back({name, static_cast<std::uint64_t>(u.soft), static_cast<std::uint64_t>(u.hard)});
  }
  auto first_set = [](std::int64_t a, std::int64_t b) { return a != 0 ? a : b; };
  if (auto mem = first_set(s.mem_limit, s.deploy.limits.memory)) spec.resources.memory_bytes = mem;
  if (auto res = first_set(s.mem_reservation, s.deploy.reservations.memory))
    spec.resources.memory_reservation_bytes = res;
  if (s.memswap_limit != 0) spec.resources.memory_swap_bytes = s.memswap_limit;
  if (auto cpus = first_set(s.nano_cpus, s.deploy.limits.nano_cpus)) {
    spec.resources.cpu_period = 100'000;
    spec.resources.cpu_quota = cpus / 10'000;  // nano-cpus * 100000 us / 1e9
  }
  if (s.cpu_shares != 0) spec.resources.cpu_shares = static_cast<std::uint64_t>(s.cpu_shares);
  if (auto pids = first_set(s.pids_limit, s.deploy.limits.pids)) spec.resources.pids_limit = pids;
  if (s.shm_size != 0) spec.shm_size_bytes = s.shm_size;
  for (const auto& o : s.security_opt) {
    auto sep = o.find_first_of("=:");
    std::string key = o.substr(0, sep);
    std::string value = sep == std::string::npos ? "" : o.substr(sep + 1);
    if (key == "label")
      spec.selinux_opts.push_back(value);
    else if (key == "seccomp")
      spec.seccomp_profile = value;
    else if (key == "apparmor")
      spec.apparmor_profile = value;
    else if (key == "no-new-privileges")
      spec.no_new_privileges = value.empty() || value == "true";
    else
      return Fail(ErrorCode::kInvalidArgument, "security_opt: unsupported option \"" + o + "\"", where);
  }
  spec.stdin_open = s.stdin_open;
  spec.terminal = s.tty;
  spec.oci_runtime = s.runtime;  // the policy allowed it (policy.allowed_runtimes)
  return {};
}

void MapPullAndDependencies(const core::Service& s, ServiceJob& job) {
  job.pull = PullFor(s.pull_policy);
  job.pull_never = s.pull_policy == "never";
  for (const auto& [dep, d] : s.depends_on)
    job.depends_on.push_back(
        {dep, ParseDependencyCondition(d.condition).value_or(DependencyCondition::kHealthy)});
  // Joining another service's namespace needs its container to exist (compose orders it so too).
  job.joins = s.NamespaceServices();
  for (const auto& target : job.joins) {
    if (!s.depends_on.contains(target)) job.depends_on.push_back({target, DependencyCondition::kStarted});
  }
}

}  // namespace

Expected<ServiceJob> MapService(const core::Stack& stack, const core::Service& s,
                                const DeployLabels& labels) {
  const std::string where = "stack " + stack.name + ", service " + s.name;
  ServiceJob job;
  job.name = s.name;
  job.spec.name = ContainerName(stack, s);
  job.spec.image = s.image;
  MapBuild(stack, s, job);
  MapCommandAndLabels(stack, s, labels, job.spec);
  MapPorts(s, job);
  if (auto r = MapMounts(stack, s, where, job.spec); !r) return std::unexpected(r.error());
  if (s.read_only) ReadOnlyTmpfs(job.spec);
  if (auto r = MapNamespaces(stack, s, where, job); !r) return std::unexpected(r.error());
  if (auto r = MapProcess(s, where, job); !r) return std::unexpected(r.error());
  if (auto r = MapLimits(s, where, job.spec); !r) return std::unexpected(r.error());
  MapPullAndDependencies(s, job);
  return job;
}

namespace {

// compose's ipam: each pool a subnet with its gateway, and ip_range as the lease range (its
// first and last host address, as `podman network create --ip-range` makes it).
void MapIpam(const core::Ipam& ipam, podman::NetworkCreate& c) {
  if (ipam.driver == "dhcp" || ipam.driver == "none") c.ipam_options["driver"] = ipam.driver;
  for (const auto& pool : ipam.config) {
    podman::Subnet subnet{pool.subnet, pool.gateway, {}, {}};
    if (auto range = ip::ParseNetwork(pool.ip_range); range && !pool.ip_range.empty()) {
      const int width = range->v6 ? 128 : 32;
      const bool tiny = width - range->prefix < 2;  // /31, /32: no network or broadcast address
      subnet.lease_start =
          ip::ToString(tiny ? ip::FirstAddress(*range) : ip::Offset(ip::FirstAddress(*range), 1));
      subnet.lease_end =
          ip::ToString(tiny ? ip::LastAddress(*range) : ip::Offset(ip::LastAddress(*range), -1));
    }
    c.subnets.push_back(std::move(subnet));
  }
  if (std::any_of(c.subnets.begin(), c.subnets.end(),
                  [](const auto& sn) { return sn.subnet.find(':') != std::string::npos; }))
    c.ipv6_enabled = true;  // Podman refuses an IPv6 subnet on a network without IPv6
}

}  // namespace

std::string NetworkFingerprint(const podman::NetworkCreate& c) {
  std::string text = c.name + "\n" + c.driver + "\n" + (c.internal ? "internal" : "") + "\n" +
                     (c.ipv6_enabled ? "ipv6" : "") + "\n" + (c.dns_enabled ? "dns" : "");
  for (const auto& [k, v] : c.options) text += "\noption " + k + "=" + v;
  for (const auto& [k, v] : c.ipam_options) text += "\nipam " + k + "=" + v;
  for (const auto& s : c.subnets)
    text += "\nsubnet " + s.subnet + " " + s.gateway + " " + s.lease_start + " " + s.lease_end;
  for (const auto& [k, v] : c.labels) {
    if (k != core::kLabelFingerprint) text += "\nlabel " + k + "=" + v;
  }
  return Sha256Hex(text).substr(0, 32);
}

void MapStackResources(const core::Stack& stack, StackJob& job) {
  std::set<std::string> nets;
  std::set<std::string> vols;
  for (const auto& s : stack.services) {
    if (s.network_mode.empty()) {
      for (const auto& [key, sn] : s.networks) nets.insert(key);
    }
    for (const auto& m : s.volumes) {
      if (m.type == core::MountType::kVolume && !m.source.empty()) vols.insert(m.source);
    }
  }
  for (const auto& key : nets) {
    auto it = stack.networks.find(key);
    if (it == stack.networks.end()) {
      podman::NetworkCreate c;
      c.name = stack.name + "_" + key;
      c.labels[std::string(core::kLabelStack)] = stack.name;
      job.networks.push_back(std::move(c));
      continue;
    }
    const auto& n = it->second;
    if (n.external) {
      job.external_networks.push_back(n.name);
      continue;
    }
    podman::NetworkCreate c;
    c.name = n.name;
    if (!n.driver.empty()) c.driver = n.driver;
    c.options = n.driver_opts;
    c.internal = n.internal;
    c.ipv6_enabled = n.enable_ipv6;
    c.labels = n.labels;
    MapIpam(n.ipam, c);
    c.labels[std::string(core::kLabelStack)] = stack.name;
    c.labels[std::string(core::kLabelComposeProject)] = stack.name;
    // What shapes the network, so that a change of it is seen on the host (NetworkChanged).
    c.labels[std::string(core::kLabelFingerprint)] = NetworkFingerprint(c);
    job.networks.push_back(std::move(c));
  }
  for (const auto& key : vols) {
    auto it = stack.volumes.find(key);
    podman::VolumeCreate v;
    v.name = it != stack.volumes.end() ? it->second.name : stack.name + "_" + key;
    if (it != stack.volumes.end()) {
      if (it->second.external) continue;  // must exist; Podman's create error names it otherwise
      v.driver = it->second.driver;
      v.options = it->second.driver_opts;
      v.labels = it->second.labels;
    }
    v.labels[std::string(core::kLabelStack)] = stack.name;
    v.labels[std::string(core::kLabelComposeProject)] = stack.name;
    job.volumes.push_back(std::move(v));
  }
}

}  // namespace podcd::reconcile
