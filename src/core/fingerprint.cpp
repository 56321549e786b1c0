#include "core/fingerprint.hpp"

#include <set>

#include "util/sha256.hpp"

namespace podcd::core {
namespace {

// A tiny JSON-like writer: strings quoted and escaped, so values cannot collide.
std::string Q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}
std::string B(bool b) { return b ? "true" : "false"; }
std::string I(std::int64_t v) { return std::to_string(v); }
std::string L(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + Q(v[i]);
  return out + "]";
}
std::string M(const std::map<std::string, std::string>& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    out += (first ? "" : ",") + Q(k) + ":" + Q(v);
    first = false;
  }
  return out + "}";
}
std::string Obj(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : fields) {
    out += (first ? "" : ",") + Q(k) + ":" + v;
    first = false;
  }
  return out + "}";
}
std::string OptList(const std::optional<std::vector<std::string>>& v) { return v ? L(*v) : "null"; }
std::string Range(const PortRange& r) { return "[" + I(r.start) + "," + I(r.end) + "]"; }
std::string MountTypeName(MountType t) {
  switch (t) {
    case MountType::kVolume: return "volume";
    case MountType::kBind: return "bind";
    case MountType::kTmpfs: return "tmpfs";
  }
  return "?";
}
std::string Res(const Resources& r) {
  return Obj({{"cpus", I(r.nano_cpus)}, {"memory", I(r.memory)}, {"pids", I(r.pids)}});
}
std::string Ref(const FileObjectRef& r) {
  return Obj({{"gid", Q(r.gid)},
              {"mode", r.mode ? I(*r.mode) : "null"},
              {"source", Q(r.source)},
              {"target", Q(r.target)},
              {"uid", Q(r.uid)}});
}

}  // namespace

CanonicalFields Canonicalize(const Stack& stack, const Service& s) {
  CanonicalFields f;
  f["name"] = Q(s.name);
  f["project"] = Q(stack.name);
  f["image"] = Q(s.image);
  if (s.build) {
    const auto& b = *s.build;
    f["build"] = Obj({{"args", M(b.args)},
                      {"context", Q(b.context)},
                      {"dockerfile", Q(b.dockerfile)},
                      {"labels", M(b.labels)},
                      {"target", Q(b.target)}});
  } else {
    f["build"] = "null";
  }
  f["command"] = OptList(s.command);
  f["entrypoint"] = OptList(s.entrypoint);
  f["environment"] = "{" + std::to_string(s.environment.size()) + "}";
  for (const auto& [k, v] : s.environment) f["environment." + k] = Q(v);
  {
    std::string out = "[";
    for (std::size_t i = 0; i < s.ports.size(); ++i) {
      const auto& p = s.ports[i];
      out += (i ? "," : "") + Obj({{"app_protocol", Q(p.app_protocol)},
                                   {"host_ip", Q(p.host_ip)},
                                   {"mode", Q(p.mode)},
                                   {"name", Q(p.name)},
                                   {"protocol", Q(p.protocol)},
                                   {"published", Range(p.published)},
                                   {"target", Range(p.target)}});
    }
    f["ports"] = out + "]";
  }
  f["expose"] = L(s.expose);
  {
    std::string out = "[";
    for (std::size_t i = 0; i < s.volumes.size(); ++i) {
      const auto& m = s.volumes[i];
      out += (i ? "," : "") + Obj({{"chown", B(m.chown)},
                                   {"create_host_path", B(m.create_host_path)},
                                   {"nocopy", B(m.nocopy)},
                                   {"propagation", Q(m.propagation)},
                                   {"read_only", B(m.read_only)},
                                   {"repo_path", Q(m.repo_path)},
                                   {"selinux", Q(m.selinux)},
                                   {"source", Q(m.source)},
                                   {"subpath", Q(m.subpath)},
                                   {"target", Q(m.target)},
                                   {"tmpfs_mode", m.tmpfs_mode ? I(*m.tmpfs_mode) : "null"},
                                   {"tmpfs_size", I(m.tmpfs_size)},
                                   {"type", Q(MountTypeName(m.type))}});
      if (m.type == MountType::kVolume && !m.source.empty()) {
        if (auto v = stack.volumes.find(m.source); v != stack.volumes.end()) {
          const auto& d = v->second;
          f["volume " + m.source] = Obj({{"driver", Q(d.driver)},
                                         {"driver_opts", M(d.driver_opts)},
                                         {"external", B(d.external)},
                                         {"labels", M(d.labels)},
                                         {"name", Q(d.name)}});
        }
      }
    }
    f["volumes"] = out + "]";
  }
  for (const auto& [name, n] : s.networks) {
    f["networks." + name] = Obj({{"aliases", L(n.aliases)},
                                 {"ipv4_address", Q(n.ipv4_address)},
                                 {"ipv6_address", Q(n.ipv6_address)},
                                 {"priority", n.priority ? I(*n.priority) : "null"}});
    if (auto d = stack.networks.find(name); d != stack.networks.end()) {
      const auto& nd = d->second;
      f["network " + name] = Obj({{"driver", Q(nd.driver)},
                                  {"driver_opts", M(nd.driver_opts)},
                                  {"enable_ipv6", B(nd.enable_ipv6)},
                                  {"external", B(nd.external)},
                                  {"internal", B(nd.internal)},
                                  {"labels", M(nd.labels)},
                                  {"name", Q(nd.name)}});
    }
  }
  {
    std::vector<std::string> names;
    for (const auto& [name, _] : s.networks) names.push_back(name);
    f["networks"] = L(names);
  }
  f["links"] = L(s.links);
  f["labels"] = "{" + std::to_string(s.labels.size()) + "}";
  for (const auto& [k, v] : s.labels) f["labels." + k] = Q(v);
  f["restart"] = Q(s.restart);
  if (s.healthcheck) {
    const auto& h = *s.healthcheck;
    f["healthcheck"] = Obj({{"disable", B(h.disable)},
                            {"interval", I(h.interval.count())},
                            {"retries", I(h.retries)},
                            {"start_interval", I(h.start_interval.count())},
                            {"start_period", I(h.start_period.count())},
                            {"test", L(h.test)},
                            {"timeout", I(h.timeout.count())}});
  } else {
    f["healthcheck"] = "null";
  }
  {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, d] : s.depends_on) {
      out += (first ? "" : ",") + Q(k) + ":" +
             Obj({{"condition", Q(d.condition)}, {"required", B(d.required)}, {"restart", B(d.restart)}});
      first = false;
    }
    f["depends_on"] = out + "}";
  }
  f["user"] = Q(s.user);
  f["working_dir"] = Q(s.working_dir);
  f["hostname"] = Q(s.hostname);
  f["domainname"] = Q(s.domainname);
  f["cap_add"] = L(s.cap_add);
  f["cap_drop"] = L(s.cap_drop);
  f["privileged"] = B(s.privileged);
  f["read_only"] = B(s.read_only);
  f["tmpfs"] = L(s.tmpfs);
  f["init"] = s.init ? B(*s.init) : "null";
  f["stop_grace_period"] = s.stop_grace_period ? I(s.stop_grace_period->count()) : "null";
  f["stop_signal"] = Q(s.stop_signal);
  f["extra_hosts"] = L(s.extra_hosts);
  f["logging"] =
      s.logging ? Obj({{"driver", Q(s.logging->driver)}, {"options", M(s.logging->options)}}) : "null";
  f["profiles"] = L(s.profiles);
  f["container_name"] = Q(s.container_name);
  f["network_mode"] = Q(s.network_mode);
  f["shm_size"] = I(s.shm_size);
  f["mem_limit"] = I(s.mem_limit);
  f["mem_reservation"] = I(s.mem_reservation);
  f["memswap_limit"] = I(s.memswap_limit);
  f["cpus"] = I(s.nano_cpus);
  f["cpu_shares"] = I(s.cpu_shares);
  f["pids_limit"] = I(s.pids_limit);
  f["deploy"] = Obj({{"limits", Res(s.deploy.limits)}, {"reservations", Res(s.deploy.reservations)}});
  {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, u] : s.ulimits) {
      out += (first ? "" : ",") + Q(k) + ":" + Obj({{"hard", I(u.hard)}, {"soft", I(u.soft)}});
      first = false;
    }
    f["ulimits"] = out + "}";
  }
  f["sysctls"] = M(s.sysctls);
  f["dns"] = L(s.dns);
  f["dns_search"] = L(s.dns_search);
  f["dns_opt"] = L(s.dns_opt);
  f["stdin_open"] = B(s.stdin_open);
  f["tty"] = B(s.tty);
  f["security_opt"] = L(s.security_opt);
  f["group_add"] = L(s.group_add);
  f["pull_policy"] = Q(s.pull_policy);
  f["platform"] = Q(s.platform);
  {
    std::string out = "[";
    for (std::size_t i = 0; i < s.devices.size(); ++i) {
      const auto& d = s.devices[i];
      out += (i ? "," : "") + Obj({{"container_path", Q(d.container_path)},
                                   {"host_path", Q(d.host_path)},
                                   {"permissions", Q(d.permissions)}});
    }
    f["devices"] = out + "]";
  }
  f["pid"] = Q(s.pid);
  f["ipc"] = Q(s.ipc);
  f["userns_mode"] = Q(s.userns_mode);
  for (const auto& [what, refs, defs] : {std::tuple{"configs", &s.configs, &stack.configs},
                                         std::tuple{"secrets", &s.secrets, &stack.secrets}}) {
    std::string out = "[";
    for (std::size_t i = 0; i < refs->size(); ++i) {
      const auto& r = (*refs)[i];
      out += (i ? "," : "") + Ref(r);
      if (auto d = defs->find(r.source); d != defs->end()) {
        f[std::string(what) == "configs" ? "config " + r.source : "secret " + r.source] = Obj(
            {{"external", B(d->second.external)}, {"file", Q(d->second.file)}, {"name", Q(d->second.name)}});
      }
    }
    f[what] = out + "]";
  }
  for (const auto& path : s.files) {
    auto it = stack.files.find(path);
    f["file " + path] = it == stack.files.end()
                            ? "unknown"
                            : std::string(ToString(it->second.kind)) + " " + it->second.sha256;
  }
  return f;
}

std::string Fingerprint(const CanonicalFields& fields) {
  // One buffer and one hash call: three digest updates per field were a tenth of a plan.
  std::size_t size = kCanonicalVersion.size() + 1;
  for (const auto& [k, v] : fields) size += k.size() + v.size() + 24;
  std::string text;
  text.reserve(size);
  text += kCanonicalVersion;
  text += '\n';
  for (const auto& [k, v] : fields) {
    text += std::to_string(k.size());
    text += ':';
    text += k;
    text += '=';
    text += std::to_string(v.size());
    text += ':';
    text += v;
    text += '\n';
  }
  return Sha256Hex(text);
}

std::string Fingerprint(const Stack& stack, const Service& service) {
  return Fingerprint(Canonicalize(stack, service));
}

CanonicalFields Digests(const CanonicalFields& fields) {
  CanonicalFields out;
  for (const auto& [k, v] : fields) out.emplace(k, Sha256Hex(v));
  return out;
}

std::vector<std::string> ChangedFields(const CanonicalFields& before, const CanonicalFields& after) {
  std::set<std::string> out;
  for (const auto& [k, v] : before) {
    auto it = after.find(k);
    if (it == after.end() || it->second != v) out.insert(k);
  }
  for (const auto& [k, _] : after) {
    if (!before.contains(k)) out.insert(k);
  }
  // The count entries only matter when nothing more specific changed.
  for (const char* agg : {"environment", "labels"}) {
    if (!out.contains(agg)) continue;
    for (const auto& k : out) {
      if (k.starts_with(std::string(agg) + ".")) {
        out.erase(agg);
        break;
      }
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace podcd::core
