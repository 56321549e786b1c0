// The reconcile engine: one deployment = sync the repo, load the desired state, list what
// runs, Plan, apply stack by stack. It is the WorkQueue's Executor in the daemon and runs
// in-process for `podcd deploy` and `podcd plan`.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/plan.hpp"
#include "reconcile/apply.hpp"
#include "reconcile/desired.hpp"
#include "reconcile/queue.hpp"
#include "reconcile/runtime.hpp"
#include "reconcile/select.hpp"
#include "state/controls.hpp"
#include "state/image_ledger.hpp"
#include "state/uploads.hpp"
#include "util/guarded.hpp"

namespace podcd::reconcile {

// What the host should be and what it is, at one commit.
struct Snapshot {
  std::string commit;
  DesiredState desired;
  std::vector<core::ActualContainer> actual;
  core::PlanResult plan;
  std::vector<std::string> recovered;  // temporaries finished or removed before planning
  state::StackControls controls;       // suspended and pinned stacks (state/controls.hpp)
  state::Uploads uploads;              // images uploaded per stack (state/uploads.hpp)
};

// <state_dir>/pinned/<commit>: the files of a pinned commit, written from the repository's
// objects the first time a stack is pinned to it (git/materialize.hpp).
Expected<std::filesystem::path> MaterializePin(const config::Config& config, const std::string& commit);
// Removes the trees under <state_dir>/pinned that no stack is pinned to and no stack's
// containers were made from (they bind files inside it, and a rollback would start them
// again; reconcile/deployed_fields.hpp): in practice the run after the one that unpinned. A
// run calls it (runs take turns).
void RemoveUnpinnedTrees(const config::Config& config, const state::StackControls& controls);

// Per-stack failure memory: a stack that failed at a fingerprint is not retried at that same
// fingerprint before its back-off ends (1 min, doubling, capped at 1 h). With a file, it
// survives the process: each deployment runs in its own worker process (`podcd __run`), and
// the daemon may restart.
class Backoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{60'000};
  static constexpr std::chrono::milliseconds kMax{3'600'000};
  Backoff() = default;
  // Reads `file` (a missing or unreadable one is an empty memory, with a warning) and writes
  // it after each change. Times are kept there as wall-clock time; `now` is the caller's clock.
  Backoff(std::filesystem::path file, std::chrono::steady_clock::time_point now);
  // How long `stack` at `key` must still wait; nullopt when it may run.
  std::optional<std::chrono::milliseconds> Blocked(const std::string& stack, const std::string& key,
                                                   std::chrono::steady_clock::time_point now);
  void Failed(const std::string& stack, const std::string& key, std::chrono::steady_clock::time_point now);
  void Succeeded(const std::string& stack, std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    std::string key;
    int failures = 0;
    std::chrono::steady_clock::time_point retry_at;
  };
  // Writes `entries` (read under their lock) to the file.
  void Save(const std::map<std::string, Entry>& entries, std::chrono::steady_clock::time_point now) const;

  Guarded<std::map<std::string, Entry>> entries_;
  std::filesystem::path file_;
};

// <state_dir>/backoff.json
std::filesystem::path BackoffPath(const std::filesystem::path& state_dir);

class Engine final : public Executor {
 public:
  // Brings the work tree to the branch's head (of the repository `config` names) and returns the commit.
  using SyncFn = std::function<Expected<std::string>(const config::Config& config)>;

  // The back-off is kept in <state_dir>/backoff.json.
  Engine(std::shared_ptr<const config::Config> config, SyncFn sync, Runtime& runtime, Clock& clock);

  // Sync (when asked), load, list, recover interrupted replacements (when `repair`), plan.
  Expected<Snapshot> Observe(bool sync, bool repair);

  Expected<void> Run(const state::Trigger& trigger, RunContext& context) override;

  std::shared_ptr<const config::Config> Config() const { return config_; }

  // The id of the container this podcd runs in (OwnContainerId()); empty when it runs natively.
  // Only a self stack that holds this container is handed over to an updater.
  void SetOwnContainer(std::string id) { own_container_ = std::move(id); }
  // Backs `stack` off at `key`, as a failure in this process would (a failed self-update,
  // reported by the updater to the podcd that runs after it).
  void RememberFailure(const std::string& stack, const std::string& key);

 private:
  struct Work;
  struct Tally;
  void KeepDeployedFields(const std::string& stack, const Snapshot& snap) const;
  // The stacks backing off at their current fingerprint, and how long each still waits.
  std::map<std::string, std::chrono::milliseconds> BackingOff(const DesiredState& desired);
  // A sync: fetch, plan every stack, record what a deploy would do; no container is touched.
  Expected<void> PlanOnly(RunContext& ctx);
  // A forced run: the named stacks' plans with every running service recreated (force.hpp),
  // podcd's own stack excepted (an updater replaces it only when it changed or a pull asks).
  void Force(const state::Trigger& trigger, Snapshot& snap, RunContext& ctx) const;
  // Logs and records the invalid, refused and kept stacks.
  void Report(const Selection& selection, RunContext& ctx, Tally& tally);
  // Logs and records the stacks that back off or are skipped, builds the jobs of the others:
  // `work` in order, podcd's own stack apart.
  void Prepare(const Selection& selection, const Snapshot& snap, bool update_images, RunContext& ctx,
               Tally& tally, std::vector<Work>& work, std::optional<Work>& self_work);
  void AddHooks(const Snapshot& snap, const std::string& commit, const std::string& deployment,
                StackJob& job) const;
  void ApplyOne(const Work& w, const Snapshot& snap, const GateOptions& gate, RunContext& ctx, Tally& tally);
  // Fails, named, each stack the run claims (applied, removed, or found unchanged) that the
  // host does not show as claimed after the run (verify.hpp).
  void Verify(const Snapshot& snap, const Selection& selection, const state::Trigger& trigger,
              RunContext& ctx, Tally& tally);
  // Applies `work` as ScheduleStacks orders it; false when a stop request interrupted it.
  bool ApplyScheduled(const std::vector<Work>& work, const Snapshot& snap, const GateOptions& gate,
                      RunContext& ctx, Tally& tally);
  // Starts the updater for the self stack and waits: for the stop the updater sends us (the
  // record is then handed over), or for the updater to end without stopping us (it failed).
  Expected<void> HandOverSelf(const StackJob& job, const std::string& key, const std::string& commit,
                              const std::string& earlier_failures, RunContext& ctx);
  struct Updater {
    std::string id;
    podman::ContainerSpec spec;
  };
  Expected<Updater> StartUpdater(const StackJob& job, const std::string& commit,
                                 const std::string& earlier_failures, RunContext& ctx);
  // The service of `job` whose container is this process, if any.
  const ServiceJob* OwnService(const StackJob& job) const;

  const std::shared_ptr<const config::Config> config_;
  SyncFn sync_;
  Runtime& runtime_;
  Clock& clock_;
  Backoff backoff_;
  state::ImageLedgerFile images_;  // the images podcd brought (image_cleanup.hpp)
  std::string own_container_;
};

// The health gate as the configuration sets it (health.timeout, settle, healthy_count).
GateOptions GateFromConfig(const config::Config& config);

// The fingerprints of every service of a stack, as one key (the back-off's memory).
std::string StackKey(const core::DesiredStack& d);

// The default SyncFn: `podcd __sync` in a child process with a hard timeout.
Engine::SyncFn ChildProcessSync();

// Builds the applier's job for one stack of a plan.
Expected<StackJob> BuildStackJob(const core::StackPlan& plan, const core::Stack& model,
                                 const core::DesiredStack& desired, const std::string& commit,
                                 const std::string& deployment);

}  // namespace podcd::reconcile
