#include "reconcile/hooks.hpp"

#include <unistd.h>

#include <algorithm>

#include "process/spawn.hpp"
#include "reconcile/gate.hpp"
#include "util/log.hpp"

namespace podcd::reconcile {
namespace {

using Ms = std::chrono::milliseconds;

// Podman's log endpoint answers lines; the tail asked is far beyond what the byte cap keeps.
constexpr int kHookLogLines = 4000;
constexpr Ms kHookPoll{250};

// Masked before it is cut, so that no secret is cut in two.
std::string Captured(std::string text) {
  return LastBytes(log::Masked(std::move(text)), kMaxHookOutputBytes);
}

bool IsPodcdLabel(const std::string& key) {
  return key.starts_with("io.podcd.") || key.starts_with("com.docker.compose.");
}

}  // namespace

std::string HookResult::Describe() const {
  const std::string what = "hook " + name;
  if (!ran) return what + " could not run: " + error;
  if (timed_out) return what + " timed out (killed; exit code " + std::to_string(exit_code) + ")";
  return what + " exited with code " + std::to_string(exit_code);
}

std::map<std::string, std::string> HookEnvironment(const std::string& deployment, const std::string& stack,
                                                   const std::string& commit,
                                                   const std::string& previous_commit) {
  return {{"PODCD_DEPLOYMENT", deployment},           {"PODCD_STACK", stack}, {"PODCD_COMMIT", commit},
          {"PODCD_PREVIOUS_COMMIT", previous_commit}, {"DEPLOY", deployment}, {"PROJECT", stack}};
}

podman::ContainerSpec HookSpec(const podman::ContainerSpec& service, const core::Hook& hook,
                               const std::string& stack, const std::map<std::string, std::string>& env) {
  podman::ContainerSpec spec = service;
  spec.name = service.name + "-hook-" + hook.name;
  spec.command = hook.command;
  for (const auto& [k, v] : env) spec.env[k] = v;
  std::erase_if(spec.labels, [](const auto& kv) { return IsPodcdLabel(kv.first); });
  spec.labels[std::string(kLabelHook)] = stack + "/" + hook.name;
  // It runs beside the service's containers: no port, address or name of theirs.
  spec.ports.clear();
  for (auto& net : spec.networks) {
    net.aliases.clear();
    net.static_ips.clear();
    net.static_mac.clear();
  }
  spec.restart_policy = "no";
  spec.restart_retries.reset();
  spec.healthcheck.reset();
  spec.stdin_open = false;
  spec.terminal = false;
  return spec;
}

HookResult RunContainerHook(const core::Hook& hook, const podman::ContainerSpec& spec, Runtime& runtime,
                            Clock& clock) {
  HookResult r;
  r.name = hook.name;
  // A hook container left by a killed run holds the name: it goes first.
  (void)runtime.Remove(spec.name);
  auto id = runtime.Create(spec);
  if (!id) {
    r.error = "create: " + id.error().What();
    return r;
  }
  auto remove = [&] {
    if (auto rm = runtime.Remove(*id); !rm)
      log::Warn("removal of a hook container failed", {{"hook", hook.name}, {"error", rm.error().What()}});
  };
  if (auto st = runtime.Start(*id); !st) {
    r.error = "start: " + st.error().What();
    if (auto logs = runtime.Logs(*id, kHookLogLines); logs) r.output = Captured(*logs);
    remove();
    return r;
  }
  r.ran = true;
  const auto deadline = clock.Now() + std::chrono::duration_cast<Ms>(hook.timeout);
  for (;;) {
    auto st = runtime.Inspect(*id);
    if (!st) {
      r.ran = false;
      r.error = "inspect: " + st.error().What();
      break;
    }
    if (!st->running) {
      r.exit_code = st->exit_code;
      break;
    }
    if (clock.Now() >= deadline) {
      r.timed_out = true;
      (void)runtime.Stop(*id, std::chrono::seconds(0));
      auto after = runtime.Inspect(*id);
      r.exit_code = after ? after->exit_code : 137;
      break;
    }
    clock.Sleep(kHookPoll);
  }
  if (auto logs = runtime.Logs(*id, kHookLogLines); logs) r.output = Captured(*logs);
  remove();
  return r;
}

HookResult RunHostHook(const core::Hook& hook, const std::map<std::string, std::string>& env,
                       const std::string& dir) {
  HookResult r;
  r.name = hook.name;
  process::Spec spec;
  spec.argv = hook.command;
  spec.env_set = env;
  // podcd's own settings (a webhook secret, a token) are not the hook's business.
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (name.starts_with("PODCD_") && !env.contains(name)) spec.env_remove.push_back(std::move(name));
  }
  spec.cwd = dir;
  spec.timeout = std::chrono::duration_cast<Ms>(hook.timeout);
  spec.max_output_bytes = kMaxHookOutputBytes;
  auto run = process::Run(spec);
  if (!run) {
    r.error = run.error().What();
    return r;
  }
  r.ran = true;
  r.exit_code = run->exit_code;
  r.timed_out = run->timed_out;
  r.output = Captured(run->out + run->err);
  return r;
}

}  // namespace podcd::reconcile
