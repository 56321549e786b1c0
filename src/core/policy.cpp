#include "core/policy.hpp"

#include <algorithm>
#include <filesystem>

namespace podcd::core {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool UnderRoot(const std::string& root, const std::string& path) {
  if (root.empty()) return false;
  std::string r = std::filesystem::path(root).lexically_normal().string();
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r == "/") return true;
  return path == r || (path.size() > r.size() && path.starts_with(r) && path[r.size()] == '/');
}

bool IsPodmanSocket(const std::string& path) {
  static const std::string_view kNames[] = {"podman.sock", "docker.sock"};
  std::string name = std::filesystem::path(path).filename().string();
  for (auto n : kNames) {
    if (name == n) return true;
  }
  // The directories that hold them: binding /run/podman binds the socket too.
  return path == "/run/podman" || path == "/var/run/podman" || path == "/run/docker" ||
         path == "/var/run/docker" || (path.starts_with("/run/user/") && path.ends_with("/podman"));
}

}  // namespace

std::vector<Violation> CheckPolicy(const Stack& stack, const PolicySettings& settings) {
  std::vector<std::string> allowed;
  if (auto it = settings.allow.find(stack.dir); it != settings.allow.end()) allowed = it->second;
  if (stack.name != stack.dir) {
    if (auto it = settings.allow.find(stack.name); it != settings.allow.end()) {
      allowed.insert(allowed.end(), it->second.begin(), it->second.end());
    }
  }
  auto is_allowed = [&](std::string_view rule) {
    return std::find(allowed.begin(), allowed.end(), rule) != allowed.end();
  };
  std::vector<Violation> out;
  for (const auto& s : stack.services) {
    auto add = [&](std::string_view rule, const std::string& what) {
      if (is_allowed(rule)) return;
      out.push_back(Violation{s.name, std::string(rule),
                              "service " + s.name + ": " + what + " is refused by policy (allow rule " +
                                  std::string(rule) + " for stack " + stack.dir + " to permit it)"});
    };
    if (s.privileged) add(kRulePrivileged, "privileged: true");
    // "ns:<path>" joins any namespace by path, the host's included.
    auto host_ns = [](const std::string& v) { return v == "host" || v.starts_with("ns:"); };
    if (host_ns(s.pid)) add(kRuleHostNamespaces, "pid: " + s.pid);
    if (host_ns(s.ipc)) add(kRuleHostNamespaces, "ipc: " + s.ipc);
    if (host_ns(s.network_mode)) add(kRuleHostNamespaces, "network_mode: " + s.network_mode);
    if (host_ns(s.userns_mode)) add(kRuleHostNamespaces, "userns_mode: " + s.userns_mode);
    for (const auto& c : s.cap_add) {
      std::string u = Upper(c);
      if (u == "ALL" || u == "SYS_ADMIN" || u == "CAP_SYS_ADMIN") add(kRuleCapSysAdmin, "cap_add: " + c);
    }
    for (const auto& d : s.devices) add(kRuleDevices, "devices: " + d.host_path);
    for (const auto& o : s.security_opt) {
      auto eq = o.find_first_of("=:");
      std::string key = o.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : o.substr(eq + 1);
      const bool unconfined = (key == "seccomp" || key == "apparmor" || key == "systempaths" ||
                               key == "mask" || key == "unmask") &&
                              (value == "unconfined" || (key == "unmask" && value == "ALL"));
      const bool unlabelled =
          key == "label" && (value == "disable" || value == "type:spc_t" || value == "type=spc_t");
      if (unconfined || unlabelled) add(kRuleUnconfined, "security_opt: " + o);
    }
    auto check_host_path = [&](std::string p, bool read_only, const std::string& via) {
      p = std::filesystem::path(p).lexically_normal().string();
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      if (p == "/") return add(kRuleHostRoot, "a bind mount of / (the host's root)" + via);
      std::string socket = settings.podman_socket;
      if (socket.starts_with("unix://")) socket = socket.substr(7);
      bool configured = !socket.empty() && (p == std::filesystem::path(socket).lexically_normal().string() ||
                                            p == std::filesystem::path(socket).parent_path().string());
      if (configured || IsPodmanSocket(p))
        return add(kRulePodmanSocket, "a bind mount of the Podman socket " + p + via);
      bool ok = false;
      if (read_only) {
        for (auto d : kDefaultReadOnlyBinds) ok = ok || p == d;
      }
      for (const auto& r : settings.allowed_bind_roots) ok = ok || UnderRoot(r, p);
      if (!ok) add(kRuleHostBinds, "a bind mount of host path " + p + " (outside the allowed roots)" + via);
    };
    for (const auto& m : s.volumes) {
      if (m.type == MountType::kBind && m.repo_path.empty()) check_host_path(m.source, m.read_only, "");
      if (m.type != MountType::kVolume || m.source.empty()) continue;
      // A local volume with `o: bind` and `device:` is a bind mount in disguise.
      auto v = stack.volumes.find(m.source);
      if (v == stack.volumes.end()) continue;
      auto dev = v->second.driver_opts.find("device");
      auto o = v->second.driver_opts.find("o");
      if (dev != v->second.driver_opts.end() && o != v->second.driver_opts.end() &&
          o->second.find("bind") != std::string::npos) {
        check_host_path(dev->second, m.read_only, " (through volume " + m.source + ")");
      }
    }
  }
  return out;
}

}  // namespace podcd::core
