// The daemon (podcd-serve) links neither libcurl nor libgit2, so that it idles small: each
// deployment runs in a worker process, `podcd __run`, and so do the other jobs that need
// Podman or git (`__stacks`, `__close-handover`). These are the messages between them:
// - the request: one JSON object on the worker's stdin (then closed);
// - events: one JSON object per line on the worker's stdout, each one a RunContext call, a
//   metric, or the result (the last line). The worker's log lines go to its stderr, which is
//   the daemon's.
// A stop request is SIGTERM to the worker. The daemon starts workers through worker/launcher.hpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "reconcile/queue.hpp"
#include "state/deployment.hpp"
#include "util/error.hpp"
#include "util/metrics.hpp"

namespace podcd::worker {

// What a worker needs to rebuild the daemon's configuration exactly as the daemon holds it:
// the file's text at start and at the last good reload (SIGHUP); what only a restart changes
// keeps its start-up value (config::KeepRestartOnly). Empty texts and file: from the environment.
struct ConfigSnapshot {
  std::string file;
  std::string boot_text;
  std::string current_text;
};
ConfigSnapshot SnapshotOf(const config::Config& boot, const config::Config& current);
// Loads the snapshot's configuration (the environment still applies, as in the daemon).
std::expected<config::Config, std::vector<Error>> LoadSnapshot(const ConfigSnapshot& snapshot);

struct Request {
  std::string id;  // the deployment (`__run`, `__close-handover`)
  state::Trigger trigger;
  ConfigSnapshot config;
  // The podcd-serve that sent it (set by the daemon's launcher). A worker of another version
  // refuses the job: after an upgrade on disk, the running daemon must be restarted first.
  std::string daemon_version;
  // The daemon's masked secrets (log::Secrets(), set by its launcher): the worker masks them
  // as well as those it reads itself (registry passwords, the secrets directory, a token file
  // refreshed since), in its log lines and in every event before it is written.
  std::vector<std::string> secrets;
};
std::string EncodeRequest(const Request& r);

Expected<Request> DecodeRequest(std::string_view json);

// One line each (no newline).
std::string LogEvent(std::string_view line);
std::string CommitEvent(std::string_view commit);
std::string StackEvent(const state::StackOutcome& outcome);
// {"stack_started": STACK}. A daemon older than it logs the line as unreadable and goes on.
std::string StackStartedEvent(std::string_view stack);
std::string HandOverEvent();
std::string MetricEvent(metrics::Kind kind, std::string_view name, const metrics::Labels& labels,
                        double value);
// The last line: the run's result (Executor::Run's).
std::string ResultEvent(const Expected<void>& result);
// Any other payload a job prints as its answer (`__stacks`): {"data": <json>}.
std::string DataEvent(std::string_view json);

// One service of a stack as Podman shows it (its container, or none).
struct ServiceObservation {
  std::string name;
  std::string container;  // the container's name, "" when the service has none
  std::string status;     // running, exited, created, ...
  std::string health;     // healthy, unhealthy, starting; "" without a healthcheck
  std::string image;      // as Podman names it
};

// One reason of a stack's plan, split for the dashboard's diff: which field or file changed,
// with the old and the new value where podcd knows them (nullopt where it cannot: a container
// keeps only a hash of each field). Values are masked (log::MaskSecrets, and environment
// values whose name suggests a secret) before they leave the worker.
struct PlanChange {
  std::string service;  // "" for a reason about the whole stack
  std::string field;    // "image", "environment.FOO", "file services/web/x"; "" for another reason
  std::string change;   // "changed", "added", "removed"; else the reason's text ("no container")
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
};

// `podcd __stacks`: what GET /stacks needs from the repository and Podman, per stack (the
// daemon adds what its history knows). An older worker's answer without services, reasons or
// changes decodes with them empty.
struct StackObservation {
  std::string name;
  std::string action;       // core::ToString(Action) of a plan without sync
  bool drifted = false;     // a container is missing, stopped, or one too many
  std::string fingerprint;  // of the running containers (16 hex), "" when none runs
  std::string commit;       // of the newest running deployment
  std::string last_deployment;
  // (Default member initializers: older code's initializer lists without them stay warning-free.)
  std::vector<ServiceObservation> services{};
  std::vector<std::string> reasons{};  // the plan's, as `podcd plan` shows them ("web: image changed")
  std::vector<PlanChange> changes{};
  // Keys the stack's files write that podcd accepts and does not act on (core::StackPlan::notes).
  std::vector<std::string> notes{};
};
std::string EncodeStacks(const std::vector<StackObservation>& stacks);
Expected<std::vector<StackObservation>> DecodeStacks(std::string_view json);

// The daemon's side: applies one event line to `ctx` (and the metrics registry). Returns the
// result when the line is the result event; a line that is not an event is an error (the
// launcher logs it and reads on: a worker's unknown event breaks nothing).
struct Applied {
  std::optional<Expected<void>> result;
  std::optional<std::string> data;  // a DataEvent's JSON
};
Expected<Applied> ApplyEvent(std::string_view line, reconcile::RunContext& ctx);

}  // namespace podcd::worker
