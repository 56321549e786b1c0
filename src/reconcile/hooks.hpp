// Lifecycle hooks (x-podcd.hooks, docs/hooks.md): a command run like `compose run --rm` as a
// one-shot container of a service's new definition (created, started, waited for with a hard
// timeout, its output captured, removed), or on podcd's own host through process::Run for a
// stack the policy allows `host_hooks`. apply.cpp decides when each runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/model.hpp"
#include "podman/spec.hpp"
#include "reconcile/runtime.hpp"

namespace podcd::reconcile {

// The bytes of a hook's output kept (its last ones, masked), in the record and the log.
inline constexpr std::size_t kMaxHookOutputBytes = std::size_t{64} * 1024;
// Label on a hook's container: podcd lists it as no service's, and removes it.
inline constexpr std::string_view kLabelHook = "io.podcd.hook";

struct HookResult {
  std::string name;
  bool ran = false;  // the command started: exit_code is its status
  std::int64_t exit_code = -1;
  bool timed_out = false;  // killed at its timeout (a failure)
  std::string output;      // stdout and stderr, masked, the last kMaxHookOutputBytes
  std::string error;       // why it could not run ("" when it ran)
  [[nodiscard]] bool Ok() const { return ran && !timed_out && exit_code == 0; }
  // "hook pre_deploy exited with code 3", "hook check timed out after 5s (killed)", ...
  [[nodiscard]] std::string Describe() const;
};

// The environment every hook gets: PODCD_DEPLOYMENT, PODCD_STACK, PODCD_COMMIT,
// PODCD_PREVIOUS_COMMIT, and IPD's DEPLOY (the deployment id) and PROJECT (the stack).
std::map<std::string, std::string> HookEnvironment(const std::string& deployment, const std::string& stack,
                                                   const std::string& commit,
                                                   const std::string& previous_commit);

// The hook's container, made from the service's spec (image, env, networks, volumes: the same
// policy holds): its own name, the hook's command and environment, no published port, no
// fixed address, no DNS alias, no restart, no healthcheck, and no label of podcd's services
// (Plan() must not take it for one).
podman::ContainerSpec HookSpec(const podman::ContainerSpec& service, const core::Hook& hook,
                               const std::string& stack, const std::map<std::string, std::string>& env);

// Runs a container hook through `runtime`; never throws, every failure is in the result.
HookResult RunContainerHook(const core::Hook& hook, const podman::ContainerSpec& spec, Runtime& runtime,
                            Clock& clock);

// Runs a host hook (`host: true`) through process::Run, in `dir` (the stack's directory).
HookResult RunHostHook(const core::Hook& hook, const std::map<std::string, std::string>& env,
                       const std::string& dir);

}  // namespace podcd::reconcile
