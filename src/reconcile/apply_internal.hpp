// The applier's run of one stack (apply.cpp), shared with the files that implement parts of it
// (replace_steps.cpp: a replacement plan's steps, and the stack's commit or rollback).
// Internal to podcd_reconcile.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reconcile/apply.hpp"
#include "reconcile/gate.hpp"
#include "reconcile/hooks.hpp"
#include "reconcile/network_replace.hpp"
#include "reconcile/replace_plan.hpp"
#include "util/guarded.hpp"

namespace podcd::reconcile::detail {

using Ms = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

inline std::int64_t Elapsed(Clock& clock, TimePoint since) {
  return std::chrono::duration_cast<Ms>(clock.Now() - since).count();
}

// What a service is, as seen by the services that depend on it.
enum class Readiness { kPending, kStarted, kReady, kFailed };

class StackRun {
 public:
  StackRun(const StackJob& job, Runtime& rt, Clock& clock, const GateOptions& gate, const LogFn& log)
      : job_(job), rt_(rt), clock_(clock), gate_(gate), log_(log), services_(job.services) {}

  StackResult Run();

 private:
  void Log(const std::string& line) {
    std::lock_guard lock(log_mutex_);
    log_(line);
  }
  template <typename T>
  Expected<T> Write(Expected<T> r) {
    ++write_calls_;
    return r;
  }
  bool EnsureNetworksAndVolumes(StackResult& result);
  // A network whose definition changed is made again (network_replace.hpp); false on failure.
  bool EnsureNetwork(const podman::NetworkCreate& n, StackResult& result);
  void RestoreNetworks();
  void RunServices();
  void CheckUnsettled();
  // Services gone from the compose file: removed when the rest succeeded, else kept.
  void RemoveDropped(bool failed);
  void RunService(size_t index);
  void AcquireSlot();
  void ReleaseSlot();
  // `except`: a dependency not to wait for (a joiner's owner, replaced in the same group).
  bool WaitForDependencies(const ServiceJob& s, std::string& why, const std::string& except = "");
  void SetReadiness(const std::string& service, Readiness r);
  GateKind GateFor(const ServiceJob& s) const;
  bool HasDependents(const ServiceJob& s) const;
  Expected<void> Gate(const ServiceJob& s, const std::string& id);
  std::string LastLogs(const std::string& id);
  static ReplaceTarget Target(const ServiceJob& s);
  // What Execute knows of a plan under way: the jobs of its members, their new containers,
  // which old ones it stopped and when the first stopped.
  struct Progress {
    std::vector<const ServiceJob*> jobs;
    std::vector<std::string> new_ids;  // "" until created
    std::vector<bool> stopped;
    std::optional<TimePoint> stopped_at;
    std::int64_t gap = 0;
    std::vector<std::string> notes;  // per member: what its committed result's reason says
  };
  // A change created or replaced and gated, whose commit waits for the rest of the stack.
  struct Change {
    ReplacementPlan plan;
    Progress progress;
    std::vector<size_t> members;  // indices into services_: the service or owner, its joiners
    TimePoint start;
  };
  // Runs a plan's steps [begin, end); a failing step fails the change (kFail) or puts the old
  // containers back first (kRollback): then one result per member, all alike.
  std::optional<std::vector<ServiceResult>> Steps(const ReplacementPlan& plan, Progress& progress,
                                                  size_t begin, size_t end);
  static std::vector<ServiceResult> All(const Progress& progress, ServiceOutcome outcome,
                                        const std::string& why, std::int64_t gap);
  // Runs a plan up to its commit; a change that got there waits in Shared::prepared.
  void Prepare(const ReplacementPlan& plan, std::vector<size_t> members, TimePoint start);
  // The stack is one transaction: once every task ended, each prepared change commits when
  // no service failed, else each is rolled back.
  StackVerdict Settle();
  void Commit(Change& change);
  void RollBack(Change& change, const StackVerdict& verdict);
  Expected<void> RunStep(const Step& step, Progress& progress);
  Expected<std::string> CreateNew(const Step& step, const Progress& progress);
  std::optional<Error> RecheckBinds(const std::string& service, const podman::ContainerSpec& spec) const;
  enum class Leftover { kRemoved, kKept, kNotYet };
  Leftover RemoveLeftover(const ServiceJob& s, const std::string& name);
  // An owner whose namespaces other services join, replaced with those joiners as one group.
  void RunGroup(size_t owner, const std::vector<size_t>& joiners);
  void Finish(size_t index, ServiceResult out, TimePoint start);
  void Cleanup(const std::string& id, const ServiceJob& s);
  // The old containers of `s`: stopped with its grace period, or started again (rollback).
  void StopOld(const ServiceJob& s);
  void StartOld(const ServiceJob& s);
  // Takes the old containers of `s` off its networks.
  void Disconnect(const ServiceJob& s);
  // Lifecycle hooks (hooks.hpp). `check`, `prepare` and `pre_deploy` before anything is
  // replaced: false (with the stack's result filled in) when one fails the stack.
  bool PreHooks(StackResult& result);
  // `post_deploy` once every change passed its gates, before any commits; a failure rolls the
  // stack back (Settle).
  void PostHook();
  const core::Hook* FindHook(std::string_view name) const;
  HookResult RunHook(const core::Hook& hook);
  static void HookFailed(const HookResult& r, StackResult& result);

  const StackJob& job_;
  Runtime& rt_;
  Clock& clock_;
  const GateOptions& gate_;
  const LogFn& log_;
  std::vector<ServiceJob> services_;
  std::vector<ServiceResult> results_;
  std::vector<NetworkSwap> swaps_;  // networks made again, in order (Run's thread only)
  std::mutex log_mutex_;            // guards no data: one log line at a time into log_
  std::atomic<int> write_calls_{0};
  std::optional<HookResult> post_failed_;  // a failed post_deploy hook: the stack rolls back

  // What the service tasks of the stack share.
  struct Shared {
    std::map<std::string, Readiness> readiness;
    std::vector<std::pair<std::string, std::string>>
        unsettled;  // created without a settle wait: (service, id)
    std::vector<Change> prepared;
  };
  Guarded<Shared> shared_;
  std::condition_variable ready_cv_;

  Guarded<std::size_t> busy_{std::size_t{0}};  // gates running now (gate_.max_parallel at most)
  std::condition_variable slots_cv_;
};

}  // namespace podcd::reconcile::detail
