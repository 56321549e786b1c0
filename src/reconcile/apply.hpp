// The applier: converges one stack to its plan through a Runtime, safely. Images are pulled
// before anything stops; each replaced service gets a new container under a temporary name,
// a health gate, and a rollback to the old container when the gate fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/policy.hpp"
#include "podman/client.hpp"
#include "podman/spec.hpp"
#include "reconcile/outcome.hpp"
#include "reconcile/runtime.hpp"

namespace podcd::reconcile {

struct ServiceJob {
  std::string name;
  core::Action action = core::Action::kUnchanged;
  std::vector<std::string> reasons;
  std::vector<std::string> old_containers;  // ids of the containers it replaces or removes
  podman::ContainerSpec spec;               // spec.name is the final container name
  podman::PullPolicy pull = podman::PullPolicy::kMissing;
  // Built from the repository instead of pulled (compose `build:`); spec.image is then the
  // first tag, named after the build's content, so a changed context is a new image.
  std::optional<podman::BuildRequest> build;
  bool pull_never = false;  // pull_policy: never
  bool has_healthcheck = false;
  std::chrono::milliseconds health_interval{0};
  // As Podman's timer would apply them (its `healthcheck run` reports every failed check as
  // unhealthy): failures in the start period do not count; `retries` failures in a row fail.
  std::chrono::milliseconds health_start_period{0};
  int health_retries = 3;
  bool publishes_host_ports = false;
  // A fixed address or MAC on a network (compose ipv4_address, ...): the old container holds
  // it until it stops, so the new one cannot start beside it.
  bool fixed_address = false;
  bool shares_namespace = false;  // network_mode, pid or ipc service:/container:
  // The services of the stack whose container's namespaces this one joins (service:<name>).
  // Replacing such an owner replaces its joiners with it, as one group (apply.cpp).
  std::vector<std::string> joins;
  std::chrono::seconds stop_grace{10};
  struct Dependency {
    std::string service;
    DependencyCondition condition = DependencyCondition::kStarted;
  };
  std::vector<Dependency> depends_on;
};

// Label on an image podcd built: a digest of the ids of the images it was built from (its
// FROM and COPY --from images), so redeploy-and-update can tell when one of them moved.
inline constexpr std::string_view kLabelBaseImages = "io.podcd.base-images";

struct StackJob {
  std::string name;
  std::vector<ServiceJob> services;
  // To create when missing; one whose io.podcd.fingerprint label differs on the host is made
  // again (network_replace.hpp), undone when the stack rolls back.
  std::vector<podman::NetworkCreate> networks;
  std::vector<std::string> external_networks;  // must exist
  std::vector<podman::VolumeCreate> volumes;   // to create when missing (never removed)
  // redeploy-and-update: pull every image (policy always) and recreate the services whose
  // image id changed, even when their fingerprint did not.
  bool update_images = false;
  // Image references uploaded for this stack (POST /upload, docs/upload.md): never pulled over
  // by update_images; what the upload loaded is what runs until the repository names another.
  std::set<std::string> uploaded_images = {};
  // Each bind is checked again right before its container is created, resolved then (a source
  // may have become a symlink since the plan). Unset: not checked (the applier's unit tests).
  // The guard's settings.resolve resolves them.
  std::optional<core::BindGuard> bind_guard = std::nullopt;
  // x-podcd.hooks (hooks.hpp), in the order they run; they run only when the stack has work.
  std::vector<core::Hook> hooks = {};
  std::map<std::string, std::string> hook_env = {};  // HookEnvironment()
  std::string dir = {};                              // the stack's directory: a host hook's cwd
};

struct GateOptions {
  std::chrono::milliseconds timeout{120'000};  // health gate limit
  std::chrono::milliseconds settle{5'000};     // running time required without a healthcheck
  int healthy_count = 1;                       // consecutive healthy checks required
  std::chrono::milliseconds poll{250};         // how often state is checked during settle
  std::size_t max_parallel = 8;                // concurrent service operations in one stack
  // True once podcd is stopping: a gate in progress fails at once ("podcd is stopping") and
  // its replacement is rolled back, rather than the process being killed in the middle of it.
  std::function<bool()> stopping;
};

struct ServiceResult {
  std::string name;
  ServiceOutcome outcome = ServiceOutcome::kUnchanged;
  std::string reason;
  std::int64_t duration_ms = 0;
  std::int64_t gap_ms = -1;  // time no container of the service ran (-1: not replaced)
};

// An image a deployment brought to the host for a service (image_cleanup.hpp records it).
struct ImageBrought {
  std::string service;
  std::string id;
  std::string how;                // pulled, built
  std::vector<std::string> tags;  // its names right after
};

struct StackResult {
  std::string name;
  bool ok = true;
  StackOutcomeKind outcome = StackOutcomeKind::kUnchanged;  // updated, unchanged, removed, failed
  std::string reason;
  std::vector<ServiceResult> services;
  std::int64_t duration_ms = 0;
  int write_calls = 0;                // Podman calls that changed something
  std::vector<ImageBrought> brought;  // pulled or built for the services, whatever the outcome
  // The hook that failed the stack ("" for none), its exit code (none when it could not run)
  // and its output (masked, capped): the record's hook, hook_exit_code and hook_output.
  std::string hook = {};
  std::optional<std::int64_t> hook_exit_code = {};
  std::string hook_output = {};
};

using LogFn = std::function<void(const std::string&)>;

StackResult ApplyStack(const StackJob& job, Runtime& runtime, Clock& clock, const GateOptions& gate,
                       const LogFn& log);

// prune.cpp: removes every container of a stack deleted from the repo (prune), and the networks podcd
// created for it; volumes are kept and named in the log.
StackResult RemoveStack(const core::StackPlan& plan, Runtime& runtime, const LogFn& log);

// Containers left under a temporary name by an interrupted deployment: finished (renamed) when
// they are the only running container of their service, removed otherwise. Returns what it did.
// `own_container` (the caller's own container id, full or short; "" outside a container) is
// never stopped nor removed: a podcd that runs as such a leftover (its updater vanished) would
// stop itself. It is only renamed, when no other container of its service is left.
std::vector<std::string> RecoverTemporaries(const std::vector<core::ActualContainer>& actual,
                                            Runtime& runtime, std::string_view own_container = {});

}  // namespace podcd::reconcile
