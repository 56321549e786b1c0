// The deployment record: what one reconcile run was asked to do, what it did, and its log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::state {

enum class DeploymentState { kQueued, kRunning, kSucceeded, kFailed, kSuperseded };

std::string_view ToString(DeploymentState s);
std::optional<DeploymentState> ParseDeploymentState(std::string_view text);
inline bool IsFinished(DeploymentState s) {
  return s == DeploymentState::kSucceeded || s == DeploymentState::kFailed ||
         s == DeploymentState::kSuperseded;
}

// What asked for a deployment. ToString is the word records, the API and the logs carry.
enum class TriggerKind {
  kUnknown,            // a word this build does not know (Trigger::other_kind), or none
  kDeployAllChanged,   // the webhook for every changed stack
  kRedeployAndUpdate,  // the webhook for one stack, images pulled again
  kDeploy,             // admin API / CLI
  kPoll,
  kSync,  // fetch the repository and plan every stack; nothing is deployed
};
constexpr std::string_view ToString(TriggerKind kind) {
  switch (kind) {
    case TriggerKind::kUnknown: return "";
    case TriggerKind::kDeployAllChanged: return "deploy-all-changed";
    case TriggerKind::kRedeployAndUpdate: return "redeploy-and-update";
    case TriggerKind::kDeploy: return "deploy";
    case TriggerKind::kPoll: return "poll";
    case TriggerKind::kSync: return "sync";
  }
  return "";
}
// kUnknown for a word that is none of the kinds.
TriggerKind ParseTriggerKind(std::string_view text);

struct Trigger {
  TriggerKind kind = TriggerKind::kUnknown;
  // The record's word when `kind` is kUnknown: a record or a worker request of another build
  // may carry a kind this one does not know, and it round-trips unchanged.
  std::string other_kind;
  std::string event;                // X-GitHub-Event (or X-Gitea-Event / X-Gitlab-Event), may be empty
  std::string delivery_id;          // X-GitHub-Delivery of the first request, may be empty
  std::vector<std::string> stacks;  // the named stacks (redeploy-and-update: exactly one)
  bool all_changed = false;         // reconcile every changed stack
  bool pull = false;                // pull the newest images first
  // Recreate every service of the named stacks even when unchanged (images prepared first,
  // health gate and rollback as for any replacement).
  bool force = false;
  // With `pull`: pull over images uploaded for the stacks too (docs/upload.md), which a pull
  // otherwise leaves as they are.
  bool pull_uploaded = false;
  // Who asked: "user:NAME", "token:ID:NAME", "api-token", "loopback", "webhook:DELIVERY" (or
  // "webhook"), "poll", "cli"; "" in records written before actors. Not part of the work.
  std::string actor;

  // The kind's word, as records, the API and the logs carry it.
  [[nodiscard]] std::string KindWord() const {
    return kind == TriggerKind::kUnknown ? other_kind : std::string(ToString(kind));
  }
  // Sets the kind from a word (a known one, or kept as other_kind).
  void SetKindWord(std::string_view word) {
    kind = ParseTriggerKind(word);
    other_kind = kind == TriggerKind::kUnknown ? std::string(word) : std::string();
  }

  // Two triggers that would do exactly the same work coalesce into one queued run (the
  // actor is not work: the run keeps the first one's).
  [[nodiscard]] bool SameWork(const Trigger& other) const {
    return kind == other.kind && other_kind == other.other_kind && stacks == other.stacks &&
           all_changed == other.all_changed && pull == other.pull && force == other.force &&
           pull_uploaded == other.pull_uploaded;
  }
};

struct StackOutcome {
  std::string name;
  std::string outcome;  // e.g. "unchanged", "updated", "failed", "rolled-back"
  std::string reason;
  std::int64_t duration_ms = 0;
  // Old images podcd removed after the stack's deployment, and the bytes that freed.
  std::int64_t images_removed = 0;
  std::int64_t image_bytes_freed = 0;
  // A lifecycle hook that failed the stack (docs/hooks.md): its name, its exit code (none when
  // it could not run) and its output, masked and capped. Written only when `hook` is set.
  std::string hook = {};
  std::optional<std::int64_t> hook_exit_code = {};
  std::string hook_output = {};
};

struct Deployment {
  std::string id;
  Trigger trigger;
  std::int64_t coalesced = 0;  // further triggers that received this run's id
  DeploymentState state = DeploymentState::kQueued;
  std::string commit;
  std::string reason;  // why it failed (or "interrupted"), or what superseded it
  // kSuperseded: the queued deployment that does this one's work instead.
  std::string superseded_by;
  std::vector<StackOutcome> stacks;
  std::int64_t queued_at_ms = 0;  // Unix epoch milliseconds; 0 = not yet
  std::int64_t started_at_ms = 0;
  std::int64_t finished_at_ms = 0;
  std::vector<std::string> log;
};

// Limits that keep a record small whatever an executor writes.
inline constexpr std::size_t kMaxLogLines = 2000;
inline constexpr std::size_t kMaxLogLineBytes = 4096;

// Appends a log line, truncating long lines and dropping lines past the cap (with one notice).
void AppendLog(Deployment& d, std::string line);

// `max_log_lines` keeps only the last lines (list views); "log_omitted" then counts the rest.
std::string ToJson(const Deployment& d, std::size_t max_log_lines = SIZE_MAX);
Expected<Deployment> FromJson(std::string_view json);

std::int64_t NowMs();
std::string Rfc3339Ms(std::int64_t epoch_ms);  // "" for 0, before 1970 and after 2262

}  // namespace podcd::state
