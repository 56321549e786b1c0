// Policy checks on a loaded stack (pure): what a stack may not ask of the host unless the
// configuration allows it for that stack.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

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

// The policy part of the configuration (config::Config::Policy has the same shape; copy it in).
struct PolicySettings {
  // Host path roots any stack may bind (read-write or read-only).
  std::vector<std::string> allowed_bind_roots;
  // stack -> rule names allowed for it.
  std::map<std::string, std::vector<std::string>> allow;
  // The configured Podman socket (podman.socket), refused like the well-known paths.
  std::string podman_socket;
};

// Always allowed read-only: real stacks bind these everywhere.
inline constexpr std::string_view kDefaultReadOnlyBinds[] = {"/etc/localtime", "/etc/timezone"};

struct Violation {
  std::string service;
  std::string rule;    // one of the rule names above
  std::string reason;  // "service app: privileged: true (rule privileged)"
  bool operator==(const Violation&) const = default;
};

// Every violation of `stack` that its allowances do not cover, in service order.
std::vector<Violation> CheckPolicy(const Stack& stack, const PolicySettings& settings);

}  // namespace podcd::core
