// The hand-over files of a self-update in the state directory (reconcile/self_update.hpp tells
// the story). Light on purpose: the daemon (podcd-serve) reads them at start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace podcd::reconcile {

// <state_dir>/handover.json: written by the old podcd before it starts the updater.
struct HandOver {
  std::string deployment;  // the record the updater's outcome closes
  std::string stack;       // self.stack
  std::string commit;
  std::string updater;           // the updater container's name
  std::string container;         // the id of the old podcd container the updater replaces
  std::string earlier_failures;  // other stacks of the deployment that failed ("" if none)
  std::int64_t started_at_ms = 0;
  std::string service;  // the podcd service of the stack (older hand-overs: "")
};

// <state_dir>/handover-result.json: written by the updater when it is done.
struct HandOverResult {
  std::string deployment;
  bool ok = false;
  std::string outcome;  // the stack outcome: updated, rolled-back, failed
  std::string reason;
  std::int64_t duration_ms = 0;
  std::string stack_key;  // the self stack's fingerprint key, for the back-off after a failure
  std::vector<std::string> log;
};

std::filesystem::path HandOverPath(const std::filesystem::path& state_dir);
std::filesystem::path HandOverResultPath(const std::filesystem::path& state_dir);

Expected<void> WriteHandOver(const std::filesystem::path& state_dir, const HandOver& h);
// nullopt when there is none; an error when the file is there but unreadable or malformed.
Expected<std::optional<HandOver>> ReadHandOver(const std::filesystem::path& state_dir);
Expected<void> WriteHandOverResult(const std::filesystem::path& state_dir, const HandOverResult& r);
Expected<std::optional<HandOverResult>> ReadHandOverResult(const std::filesystem::path& state_dir);
// <state_dir>/handover-runs: how often an updater started for the hand-over's deployment. A
// second run is a resumed updater (Podman's restart policy, or CloseHandOver starting it again
// when Podman did not): it puts the old podcd back instead of trying the update again. Podman's
// restart count alone cannot tell, as a container started through the API keeps its count.
std::filesystem::path UpdaterRunsPath(const std::filesystem::path& state_dir);
// The runs recorded for `deployment` (0 when none, or when the file is another deployment's).
int UpdaterRuns(const std::filesystem::path& state_dir, const std::string& deployment);
// Records one more run for `deployment`; returns the number of runs before this one.
Expected<int> RecordUpdaterRun(const std::filesystem::path& state_dir, const std::string& deployment);
// Removes the hand-over, its result and the run count (missing ones are fine).
void ClearHandOver(const std::filesystem::path& state_dir);

}  // namespace podcd::reconcile
