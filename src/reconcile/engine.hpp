// The reconcile engine: one deployment = sync the repo, load the desired state, list what
// runs, Plan, apply stack by stack. It is the WorkQueue's Executor in the daemon and runs
// in-process for `podcd deploy` and `podcd plan`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/plan.hpp"
#include "reconcile/apply.hpp"
#include "reconcile/desired.hpp"
#include "reconcile/queue.hpp"
#include "reconcile/runtime.hpp"

namespace podcd::reconcile {

// What the host should be and what it is, at one commit.
struct Snapshot {
  std::string commit;
  DesiredState desired;
  std::vector<core::ActualContainer> actual;
  core::PlanResult plan;
  std::vector<std::string> recovered;  // temporaries finished or removed before planning
};

class Engine final : public Executor {
 public:
  // Brings the work tree to the branch's head and returns the commit.
  using SyncFn = std::function<Expected<std::string>()>;

  Engine(std::shared_ptr<const config::Config> config, SyncFn sync, Runtime& runtime, Clock& clock);

  // Sync (when asked), load, list, recover interrupted replacements (when `repair`), plan.
  Expected<Snapshot> Observe(bool sync, bool repair);

  Expected<void> Run(const state::Trigger& trigger, RunContext& context) override;

 private:
  std::shared_ptr<const config::Config> config_;
  SyncFn sync_;
  Runtime& runtime_;
  Clock& clock_;
};

// The default SyncFn: `podcd __sync` in a child process with a hard timeout.
Engine::SyncFn ChildProcessSync(std::shared_ptr<const config::Config> config);

// Builds the applier's job for one stack of a plan.
Expected<StackJob> BuildStackJob(const core::StackPlan& plan, const core::Stack& model,
                                 const core::DesiredStack& desired, const std::string& commit,
                                 const std::string& deployment);

}  // namespace podcd::reconcile
