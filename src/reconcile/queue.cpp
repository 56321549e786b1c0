#include "reconcile/queue.hpp"

#include <algorithm>

#include "util/metrics.hpp"

#include "util/log.hpp"

namespace podcd::reconcile {

using state::Deployment;
using state::DeploymentState;

RecordContext::RecordContext(state::Store& store, Deployment& d, std::function<bool()> stop_requested,
                             events::Bus* bus)
    : store_(store), id_(d.id), stop_requested_(std::move(stop_requested)), bus_(bus), record_(Record{d}) {}

std::string RecordContext::Id() const { return id_; }

void RecordContext::Log(std::string line) {
  auto record = record_.Lock();
  state::AppendLog(record->d, std::move(line));
  store_.UpdateInMemory(record->d);
}

void RecordContext::SetCommit(std::string commit) {
  auto record = record_.Lock();
  record->d.commit = std::move(commit);
  store_.UpdateInMemory(record->d);
}

void RecordContext::SetStackOutcome(state::StackOutcome outcome) {
  auto record = record_.Lock();
  auto& stacks = record->d.stacks;
  auto it = std::find_if(stacks.begin(), stacks.end(), [&](const auto& s) { return s.name == outcome.name; });
  if (it != stacks.end())
    *it = outcome;
  else
    stacks.push_back(outcome);
  store_.UpdateInMemory(record->d);
  events::Publish(bus_, events::Kind::kStack, record->d, std::move(outcome));
}

void RecordContext::StackStarted(const std::string& stack) {
  // Under the record's lock, as outcomes are published: a stack's start comes before its end.
  auto record = record_.Lock();
  events::Publish(bus_, events::Kind::kStackStarted, record->d, state::StackOutcome{stack, "", "", 0});
}

bool RecordContext::StopRequested() const { return stop_requested_ && stop_requested_(); }

void RecordContext::HandOver() { record_.Lock()->handed_over = true; }

bool RecordContext::HandedOver() const { return record_.Lock()->handed_over; }

namespace {

bool PullsImages(const state::Trigger& t) {
  return t.pull || t.kind == state::TriggerKind::kRedeployAndUpdate;
}

}  // namespace

bool Covers(const state::Trigger& newer, const state::Trigger& older) {
  if (newer.kind == state::TriggerKind::kUnknown || older.kind == state::TriggerKind::kUnknown) return false;
  if (PullsImages(older) && !PullsImages(newer)) return false;
  if (older.force && !newer.force) return false;
  if (older.pull_uploaded && !newer.pull_uploaded) return false;
  // A sync deploys nothing and a deploy records no plan: neither does the other's work.
  if ((older.kind == state::TriggerKind::kSync) != (newer.kind == state::TriggerKind::kSync)) return false;
  // No stacks named: every stack that changed.
  if (older.stacks.empty() || newer.stacks.empty()) return older.stacks.empty() && newer.stacks.empty();
  return std::all_of(older.stacks.begin(), older.stacks.end(), [&](const std::string& s) {
    return std::find(newer.stacks.begin(), newer.stacks.end(), s) != newer.stacks.end();
  });
}

WorkQueue::WorkQueue(state::Store& store, Executor& executor, std::size_t limit, events::Bus* bus)
    : store_(store), executor_(executor), limit_(limit == 0 ? 1 : limit), bus_(bus) {}

WorkQueue::~WorkQueue() { Stop(); }

void WorkQueue::Start() {
  auto locked = state_.Lock();
  if (locked->started || locked->stopping) return;
  locked->started = true;
  worker_ = std::thread([this] { WorkerLoop(); });
}

void WorkQueue::SetListener(Listener listener) { state_.Lock()->listener = std::move(listener); }

Expected<EnqueueResult> WorkQueue::Enqueue(state::Trigger trigger) {
  std::vector<Deployment> superseded;
  EnqueueResult result;
  {
    auto locked = state_.Lock();
    auto& queued = locked->queued;
    if (locked->stopping) return Fail(ErrorCode::kUnavailable, "podcd is shutting down");
    for (auto& q : queued) {
      if (q.trigger.SameWork(trigger) || Covers(q.trigger, trigger)) {
        ++q.coalesced;
        store_.UpdateInMemory(q);
        return EnqueueResult{q.id, true};
      }
    }
    const bool replaces = std::any_of(queued.begin(), queued.end(),
                                      [&](const Deployment& q) { return Covers(trigger, q.trigger); });
    if (queued.size() >= limit_ && !replaces) {
      return Fail(ErrorCode::kUnavailable,
                  "the work queue is full (" + std::to_string(limit_) + " deployments waiting)");
    }
    Deployment d;
    d.id = store_.NewId();
    d.trigger = std::move(trigger);
    d.state = DeploymentState::kQueued;
    d.queued_at_ms = state::NowMs();
    // The record is on disk before the caller hears its id, so a crash leaves a trace.
    if (auto r = store_.Save(d); !r) return std::unexpected(r.error());
    for (const auto& q : queued) {
      if (Covers(d.trigger, q.trigger))
        state::AppendLog(d, "replaces queued deployment " + q.id + " (" + q.trigger.KindWord() +
                                "), whose work it covers");
    }
    if (!d.log.empty()) store_.UpdateInMemory(d);
    superseded = Supersede(*locked, d);
    result.id = d.id;
    // Under the lock: the run cannot start (and publish `started`) before this.
    events::Publish(bus_, events::Kind::kQueued, d);
    work_cv_.notify_one();
  }
  for (auto& old : superseded) {
    old.state = DeploymentState::kSuperseded;
    old.superseded_by = result.id;
    old.reason = "superseded by deployment " + result.id + ", which does its work";
    state::AppendLog(old, old.reason);
    log::Info("deployment superseded", {{"id", old.id}, {"by", result.id}});
    Finish(old);
  }
  return result;
}

std::vector<Deployment> WorkQueue::Supersede(State& s, const Deployment& d) {
  auto& queued = s.queued;
  std::vector<Deployment> out;
  bool placed = false;
  for (auto it = queued.begin(); it != queued.end();) {
    if (!Covers(d.trigger, it->trigger)) {
      ++it;
      continue;
    }
    out.push_back(std::move(*it));
    if (!placed) {
      *it++ = d;  // its place in the queue: the work it covers waits no longer than it did
      placed = true;
    } else {
      it = queued.erase(it);
    }
  }
  if (!placed) queued.push_back(d);
  return out;
}

void WorkQueue::WorkerLoop() {
  for (;;) {
    Deployment d;
    {
      auto locked = state_.Lock();
      locked.Wait(work_cv_, [](const State& s) { return s.stopping || !s.queued.empty(); });
      if (locked->stopping) return;
      d = std::move(locked->queued.front());
      locked->queued.pop_front();
      locked->running_id = d.id;
      ++locked->runs_started;
    }
    d.state = DeploymentState::kRunning;
    d.started_at_ms = state::NowMs();
    if (auto r = store_.Save(d); !r)
      log::Error("cannot save deployment", {{"id", d.id}, {"error", r.error().What()}});
    log::Info("deployment started", {{"id", d.id}, {"kind", d.trigger.KindWord()}});
    events::Publish(bus_, events::Kind::kStarted, d);
    RecordContext ctx(
        store_, d, [this] { return Stopping(); }, bus_);
    Expected<void> result = Fail(ErrorCode::kInternal, "executor threw");
    try {
      result = executor_.Run(d.trigger, ctx);
    } catch (const std::exception& e) {
      result = Fail(ErrorCode::kInternal, std::string("executor threw: ") + e.what());
    }
    if (ctx.HandedOver()) {
      // Whoever runs next closes it (reconcile/self_update.hpp); it must stay `running` on disk.
      if (auto r = store_.Save(d); !r)
        log::Error("cannot save deployment", {{"id", d.id}, {"error", r.error().What()}});
      log::Info("deployment handed over", {{"id", d.id}});
      if (auto locked = state_.Lock(); locked->running_id == d.id) locked->running_id.clear();
      done_cv_.notify_all();
      continue;
    }
    // The executor has returned: nothing writes into `d` any more.
    if (result) {
      d.state = DeploymentState::kSucceeded;
    } else {
      d.state = DeploymentState::kFailed;
      bool stopping = ctx.StopRequested();
      d.reason = stopping ? "interrupted" : result.error().What();
      if (stopping) state::AppendLog(d, "stopped at a safe point because podcd is shutting down");
    }
    Finish(d);
  }
}

void WorkQueue::Finish(Deployment& d) {
  d.finished_at_ms = state::NowMs();
  // Counted before the record is saved finished: whoever sees it finished (Wait, GET
  // /deployments) must also find it in /metrics.
  metrics::Add("podcd_deployments_total", {{"state", std::string(state::ToString(d.state))}});
  if (d.started_at_ms > 0) {
    metrics::Observe("podcd_deployment_duration_seconds", {},
                     static_cast<double>(d.finished_at_ms - d.started_at_ms) / 1000.0);
  }
  for (const auto& s : d.stacks) {
    metrics::Observe("podcd_stack_duration_seconds", {{"outcome", s.outcome}},
                     static_cast<double>(s.duration_ms) / 1000.0);
  }
  if (auto r = store_.Save(d); !r)
    log::Error("cannot save deployment", {{"id", d.id}, {"error", r.error().What()}});
  log::Info("deployment finished", {{"id", d.id}, {"state", std::string(state::ToString(d.state))}});
  Listener listener;
  {
    auto locked = state_.Lock();
    if (locked->running_id == d.id) locked->running_id.clear();
    listener = locked->listener;
  }
  done_cv_.notify_all();
  if (listener) listener(d);
  events::Publish(bus_, events::Kind::kFinished, d);
}

std::optional<Deployment> WorkQueue::Wait(const std::string& id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string current = id;
  auto locked = state_.Lock();
  for (int hops = 0;;) {
    auto d = store_.Get(current);
    if (!d) return std::nullopt;
    // A chain of supersedings is short (each link was queued); the bound guards a corrupt record.
    if (d->state == DeploymentState::kSuperseded && !d->superseded_by.empty() && ++hops < 64) {
      current = d->superseded_by;
      continue;
    }
    if (state::IsFinished(d->state)) return d;
    if (locked.WaitUntil(done_cv_, deadline) == std::cv_status::timeout) return store_.Get(current);
  }
}

void WorkQueue::Stop() {
  std::deque<Deployment> never_ran;
  {
    auto locked = state_.Lock();
    if (locked->stopping && !worker_.joinable()) return;
    locked->stopping = true;
    never_ran.swap(locked->queued);
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (auto& d : never_ran) {
    d.state = DeploymentState::kFailed;
    d.reason = "interrupted";
    state::AppendLog(d, "podcd stopped before this deployment started");
    Finish(d);
  }
  done_cv_.notify_all();
}

std::size_t WorkQueue::QueuedCount() { return state_.Lock()->queued.size(); }

std::size_t WorkQueue::RunsStarted() { return state_.Lock()->runs_started; }

}  // namespace podcd::reconcile
