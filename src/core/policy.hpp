// Policy checks on a loaded stack (pure): an allow-list of what a stack may ask of the host.
// A stack's author is not root on the host (docs/security.md): whatever reaches the host is
// refused unless the configuration allows the stack that rule by name.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/runtimes.hpp"

namespace podcd::core {

// Rule names, as in config::kPolicyRules and the `policy.allow` map of the configuration.
inline constexpr std::string_view kRulePrivileged = "privileged";
inline constexpr std::string_view kRuleHostNamespaces = "host_namespaces";
inline constexpr std::string_view kRuleCapSysAdmin = "cap_sys_admin";
inline constexpr std::string_view kRuleDevices = "devices";
inline constexpr std::string_view kRulePodmanSocket = "podman_socket";
inline constexpr std::string_view kRuleHostBinds = "host_binds";
inline constexpr std::string_view kRuleUnconfined = "unconfined";
inline constexpr std::string_view kRuleHostRoot = "host_root";
inline constexpr std::string_view kRuleCapabilities = "capabilities";
inline constexpr std::string_view kRuleJoinContainers = "join_containers";
inline constexpr std::string_view kRuleSecurityOpt = "security_opt";
inline constexpr std::string_view kRuleHostBindsRw = "host_binds_rw";
inline constexpr std::string_view kRuleVolumeDrivers = "volume_drivers";
inline constexpr std::string_view kRuleNetworkDrivers = "network_drivers";
inline constexpr std::string_view kRuleSysctls = "sysctls";
inline constexpr std::string_view kRuleSharedVolumes = "shared_volumes";
inline constexpr std::string_view kRuleHostHooks = "host_hooks";

// Every rule, in config::kPolicyRules' order.
inline constexpr std::string_view kAllRules[] = {
    kRulePrivileged,    kRuleHostNamespaces, kRuleCapSysAdmin,   kRuleDevices,        kRulePodmanSocket,
    kRuleHostBinds,     kRuleUnconfined,     kRuleHostRoot,      kRuleCapabilities,   kRuleJoinContainers,
    kRuleSecurityOpt,   kRuleHostBindsRw,    kRuleVolumeDrivers, kRuleNetworkDrivers, kRuleSysctls,
    kRuleSharedVolumes, kRuleHostHooks};

// Docker's default capability set (moby's oci/caps/defaults.go): what a container gets
// without cap_add, so adding one of these again changes nothing.
inline constexpr std::string_view kDefaultCapabilities[] = {
    "CHOWN",   "DAC_OVERRIDE",     "FOWNER",  "FSETID",     "KILL",  "SETGID",      "SETUID",
    "SETPCAP", "NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP"};

// Resolves a host path with its symlinks as the file system shows it now (absolute, normal).
// The caller's I/O: core stays pure, unit tests pass a map.
using ResolveFn = std::function<std::string(const std::string& path)>;

// The policy part of the configuration (config::Config::Policy has the same shape; copy it in).
struct PolicySettings {
  // Host path roots any stack may bind read-only (read-write with host_binds_rw).
  std::vector<std::string> allowed_bind_roots;
  // stack -> rule names allowed for it.
  std::map<std::string, std::vector<std::string>> allow;
  // The configured Podman socket (podman.socket), refused like the well-known paths.
  std::string podman_socket;
  // How host paths (bind sources, their roots, a volume's device) are resolved at check time;
  // unset: taken as written (lexically normalised).
  ResolveFn resolve;
  // The OCI runtimes a service's `runtime` may name (policy.allowed_runtimes; empty: not set);
  // no allow rule widens it: a runtime is a property of the host, which its administrator lists.
  std::vector<std::string> allowed_runtimes;
  // The list a service's `runtime` is checked against, asked for only when a service names one
  // (asking the host's Podman takes a second or two). Unset: DecideAllowedRuntimes without a host.
  std::function<AllowedRuntimes()> runtimes;
};

// Always allowed read-only: real stacks bind these everywhere (only root can change them, so
// where they point is not the stack author's choice).
inline constexpr std::string_view kDefaultReadOnlyBinds[] = {"/etc/localtime", "/etc/timezone"};

struct Violation {
  std::string service;
  std::string rule;  // one of the rule names above, or "policy.allowed_runtimes"
  std::string
      reason;  // "service app: privileged: true is refused by policy (...; allow rule privileged ...)"
  bool operator==(const Violation&) const = default;
};

// Every violation of `stack` that its allowances do not cover, in service order.
std::vector<Violation> CheckPolicy(const Stack& stack, const PolicySettings& settings);

// What the applier re-checks right before it creates a container: a bind's source may have
// become a symlink since the plan (a container that writes the directory can swap it).
struct BindGuard {
  std::string stack;                 // the stack directory (named in the refusal)
  std::vector<std::string> allowed;  // the rules the stack is allowed
  // The repository work tree and the secrets directory, resolved: a source that still
  // resolves inside one of them is a repository file, checked when the stack was loaded.
  std::vector<std::string> inside;
  PolicySettings settings;  // its `allow` is not read: `allowed` is the stack's
};
BindGuard MakeBindGuard(const std::string& stack_dir, const std::string& stack_name,
                        std::vector<std::string> inside, PolicySettings settings);

// `source` as planned and `resolved`, what it resolves to now: a refusal when it resolves to
// a host path the stack may not bind (pure).
std::optional<Violation> CheckBindNow(const BindGuard& guard, const std::string& service,
                                      const std::string& source, const std::string& resolved, bool read_only);

}  // namespace podcd::core
