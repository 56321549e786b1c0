// The work queue between triggers and the reconcile engine: coalescing, bounded, one run at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "events/bus.hpp"
#include "state/deployment.hpp"
#include "state/store.hpp"
#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::reconcile {

// What an executor can do to the record of the deployment it runs. Thread-safe.
class RunContext {
 public:
  virtual ~RunContext() = default;
  // The deployment's id (it labels the containers the run creates).
  [[nodiscard]] virtual std::string Id() const = 0;
  virtual void Log(std::string line) = 0;
  virtual void SetCommit(std::string commit) = 0;
  virtual void SetStackOutcome(state::StackOutcome outcome) = 0;
  // A stack whose plan changes it starts being applied (its outcome follows): the forge shows
  // it pending from now. A context that tells nobody (a log-only one, a test's) ignores it.
  virtual void StackStarted(const std::string& /*stack*/) {}
  // True once the daemon is stopping: reach a safe point and return.
  [[nodiscard]] virtual bool StopRequested() const = 0;
  // The run was handed over to another process (the self-updater, which the next podcd reads):
  // when Run returns, the record is saved as it is, still `running`, and not finished here.
  virtual void HandOver() = 0;
};

// A RunContext that writes into a record the caller holds (and into the store's memory; the
// caller saves it). `stop_requested` answers StopRequested.
class RecordContext final : public RunContext {
 public:
  // `bus` (when set) hears of each stack's start and outcome.
  RecordContext(state::Store& store, state::Deployment& d, std::function<bool()> stop_requested,
                events::Bus* bus = nullptr);
  [[nodiscard]] std::string Id() const override;
  void Log(std::string line) override;
  void SetCommit(std::string commit) override;
  void SetStackOutcome(state::StackOutcome outcome) override;
  void StackStarted(const std::string& stack) override;
  [[nodiscard]] bool StopRequested() const override;
  void HandOver() override;
  [[nodiscard]] bool HandedOver() const;

 private:
  struct Record {
    state::Deployment& d;  // the run's record, written by the executor's threads
    bool handed_over = false;
  };
  state::Store& store_;
  const std::string id_;
  std::function<bool()> stop_requested_;
  events::Bus* bus_;
  Guarded<Record> record_;
};

// Does the work of one deployment. The reconcile engine implements it; tests script it.
class Executor {
 public:
  virtual ~Executor() = default;
  // Success, or an Error whose message becomes the record's reason.
  virtual Expected<void> Run(const state::Trigger& trigger, RunContext& context) = 0;
};

struct EnqueueResult {
  std::string id;
  bool coalesced = false;  // joined an already queued run
};

// Whether a run of `newer` does at least the work of a run of `older`: the same stacks or more
// (every changed stack covers only every changed stack, since a named stack runs despite its
// back-off), a pull of the images whenever `older` pulls, a force recreate whenever `older`
// forces; a sync covers only a sync, and is covered only by one. A trigger of an unknown kind
// covers nothing and is covered by nothing. Pure.
bool Covers(const state::Trigger& newer, const state::Trigger& older);

// Runs deployments one after another on one worker thread, so no stack is ever worked on by
// two runs at once. A trigger whose work a run still waiting in the queue already covers joins
// it (all of them get its id); so while a deploy-all-changed runs, any number of further
// ones collapse into one queued run that starts when the current one ends. A trigger that
// covers the work of queued runs (and more) replaces them: they end `superseded`, naming it
// (superseded_by), and it takes the place of the first of them in the queue.
class WorkQueue {
 public:
  // `limit`: queued (not running) deployments before Enqueue refuses with kUnavailable.
  // `bus` (when set) hears of every deployment queued, started and finished, and of each
  // stack's outcome as the run sets it.
  WorkQueue(state::Store& store, Executor& executor, std::size_t limit, events::Bus* bus = nullptr);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Start();
  [[nodiscard]] Expected<EnqueueResult> Enqueue(state::Trigger trigger);

  // Blocks until the deployment is finished or `timeout` passes; returns its record then. A
  // superseded deployment is followed to the one that does its work.
  std::optional<state::Deployment> Wait(const std::string& id, std::chrono::milliseconds timeout);

  // Called (on the worker thread, or for a superseded record on the thread that enqueued what
  // superseded it) with every record that reaches a final state.
  using Listener = std::function<void(const state::Deployment&)>;
  void SetListener(Listener listener);

  // Asks the running deployment to stop at a safe point, waits for it to end, and marks runs
  // that never started as failed ("interrupted"). Idempotent.
  void Stop();

  std::size_t QueuedCount();
  std::size_t RunsStarted();

 private:
  void WorkerLoop();
  void Finish(state::Deployment& d);
  struct State {
    std::deque<state::Deployment> queued;
    std::string running_id;
    bool stopping = false;
    bool started = false;
    std::size_t runs_started = 0;
    Listener listener;
  };
  // Takes the queued runs that `d` covers out of the queue, puts `d` in the place of the first
  // (at the end when none) and returns them.
  static std::vector<state::Deployment> Supersede(State& state, const state::Deployment& d);
  bool Stopping() { return state_.Lock()->stopping; }

  state::Store& store_;
  Executor& executor_;
  const std::size_t limit_;
  events::Bus* bus_;
  Guarded<State> state_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::thread worker_;  // started under state_'s lock
};

}  // namespace podcd::reconcile
