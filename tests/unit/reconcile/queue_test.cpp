#include "reconcile/queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "support/temp_dir.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using state::DeploymentState;

namespace {

// Blocks each run until released, and records what ran and whether two overlapped.
class ScriptedExecutor final : public Executor {
 public:
  Expected<void> Run(const state::Trigger& trigger, RunContext& ctx) override {
    if (active_.fetch_add(1) != 0) overlap_ = true;
    ctx.Log("scripted run of " + trigger.KindWord());
    ctx.SetCommit("c0ffee");
    ctx.SetStackOutcome({"web", "updated", "", 5});
    {
      std::unique_lock lock(m_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return releases_ > 0 || ctx.StopRequested(); });
      if (releases_ > 0) --releases_;
      ran_.push_back(trigger.KindWord());
    }
    active_.fetch_sub(1);
    if (ctx.StopRequested()) return Fail(ErrorCode::kUnavailable, "stopped");
    if (fail_next_.exchange(false)) return Fail(ErrorCode::kInternal, "scripted failure");
    return {};
  }
  void Release() {
    std::lock_guard lock(m_);
    ++releases_;
    cv_.notify_all();
  }
  void WaitEntered(int n) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void Wake() { cv_.notify_all(); }
  std::vector<std::string> Ran() {
    std::lock_guard lock(m_);
    return ran_;
  }
  std::atomic<bool> overlap_{false};
  std::atomic<bool> fail_next_{false};

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int releases_ = 0;
  int entered_ = 0;
  std::vector<std::string> ran_;
  std::atomic<int> active_{0};
};

state::Trigger All() {
  state::Trigger t;
  t.kind = state::TriggerKind::kDeployAllChanged;
  t.all_changed = true;
  return t;
}

state::Trigger One(std::string stack) {
  state::Trigger t;
  t.kind = state::TriggerKind::kRedeployAndUpdate;
  t.stacks = {std::move(stack)};
  t.pull = true;
  return t;
}

}  // namespace

TEST_CASE("triggers during a run coalesce into exactly one queued run") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 4);
  q.Start();
  auto first = q.Enqueue(All());
  REQUIRE(first);
  exec.WaitEntered(1);
  std::vector<std::thread> threads;
  std::mutex ids_m;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      auto r = q.Enqueue(All());
      REQUIRE(r);
      std::lock_guard lock(ids_m);
      ids.insert(r->id);
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(ids.size() == 1);
  CHECK(*ids.begin() != first->id);
  CHECK(q.QueuedCount() == 1);
  exec.Release();
  exec.WaitEntered(2);
  exec.Release();
  auto done = q.Wait(*ids.begin(), std::chrono::seconds(30));
  REQUIRE(done);
  CHECK(done->state == DeploymentState::kSucceeded);
  CHECK(done->coalesced == 49);
  CHECK(done->commit == "c0ffee");
  CHECK(done->stacks.size() == 1);
  CHECK(q.RunsStarted() == 2);
  CHECK(exec.Ran().size() == 2);
  CHECK_FALSE(exec.overlap_);
  auto firstRec = (*store)->Get(first->id);
  REQUIRE(firstRec);
  CHECK(firstRec->state == DeploymentState::kSucceeded);
  CHECK(firstRec->log.at(0) == "scripted run of deploy-all-changed");
  q.Stop();
}

TEST_CASE("different work is queued separately; a full queue refuses") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 2);
  q.Start();
  REQUIRE(q.Enqueue(All()));
  exec.WaitEntered(1);
  auto a = q.Enqueue(One("web"));
  auto b = q.Enqueue(One("db"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->id != b->id);
  auto a2 = q.Enqueue(One("web"));
  REQUIRE(a2);
  CHECK(a2->id == a->id);
  CHECK(a2->coalesced);
  auto full = q.Enqueue(All());
  REQUIRE_FALSE(full);
  CHECK(full.error().code == ErrorCode::kUnavailable);
  exec.fail_next_ = true;
  exec.Release();
  exec.Release();
  exec.Release();
  auto done = q.Wait(b->id, std::chrono::seconds(30));
  REQUIRE(done);
  CHECK(done->state == DeploymentState::kSucceeded);
  CHECK(q.RunsStarted() == 3);
  CHECK_FALSE(exec.overlap_);
  q.Stop();
}

TEST_CASE("a failed run records the reason; listener hears every final record") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 4);
  std::atomic<int> heard{0};
  q.SetListener([&](const state::Deployment&) { ++heard; });
  q.Start();
  exec.fail_next_ = true;
  auto r = q.Enqueue(All());
  REQUIRE(r);
  exec.Release();
  auto d = q.Wait(r->id, std::chrono::seconds(30));
  REQUIRE(d);
  CHECK(d->state == DeploymentState::kFailed);
  CHECK(d->reason.find("scripted failure") != std::string::npos);
  CHECK_FALSE(q.Wait("nope", std::chrono::milliseconds(1)));
  q.Stop();  // joins the worker, so the listener has run
  CHECK(heard == 1);
}

TEST_CASE("wait times out with the current record") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 4);
  q.Start();
  auto r = q.Enqueue(All());
  REQUIRE(r);
  exec.WaitEntered(1);
  auto d = q.Wait(r->id, std::chrono::milliseconds(50));
  REQUIRE(d);
  CHECK(d->state == DeploymentState::kRunning);
  exec.Release();
  q.Stop();
}

TEST_CASE("stop interrupts the running run at a safe point and fails queued ones") {
  test::TempDir dir;
  std::string running, queued;
  {
    auto store = state::Store::Open(dir.path());
    REQUIRE(store);
    ScriptedExecutor exec;
    WorkQueue q(**store, exec, 4);
    q.Start();
    running = q.Enqueue(All())->id;
    exec.WaitEntered(1);
    queued = q.Enqueue(One("web"))->id;
    std::thread stopper([&] { q.Stop(); });
    // The executor polls StopRequested() when woken.
    while ((*store)->Get(running)->state == DeploymentState::kRunning) {
      exec.Wake();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stopper.join();
    CHECK(q.RunsStarted() == 1);
    CHECK_FALSE(q.Enqueue(All()));
  }
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  CHECK((*store)->InterruptedOnOpen() == 0);
  for (const auto& id : {running, queued}) {
    auto d = (*store)->Get(id);
    REQUIRE(d);
    CHECK(d->state == DeploymentState::kFailed);
    CHECK(d->reason == "interrupted");
  }
}

namespace {
// Hands every run over (as the engine does once the self-updater stopped it).
class HandingOverExecutor final : public Executor {
 public:
  Expected<void> Run(const state::Trigger&, RunContext& ctx) override {
    ctx.Log("handed over to updater");
    ctx.SetStackOutcome({"podcd", "handed-over", "updater podcd_podcd-updater", 0});
    ctx.HandOver();
    return Fail(ErrorCode::kUnavailable, "handed over to the self-updater");
  }
};
}  // namespace

TEST_CASE("a handed-over run stays running on disk, and Store::Open keeps it running only when asked") {
  test::TempDir dir;
  std::string id;
  {
    auto store = state::Store::Open(dir.path());
    REQUIRE(store);
    HandingOverExecutor exec;
    WorkQueue q(**store, exec, 4);
    std::atomic<int> heard{0};
    q.SetListener([&](const state::Deployment&) { ++heard; });
    q.Start();
    auto r = q.Enqueue(All());
    REQUIRE(r);
    id = r->id;
    auto d = q.Wait(id, std::chrono::milliseconds(300));
    REQUIRE(d);
    CHECK(d->state == DeploymentState::kRunning);
    q.Stop();
    CHECK(heard == 0);  // never finished here
    auto kept = (*store)->Get(id);
    REQUIRE(kept);
    CHECK(kept->state == DeploymentState::kRunning);
    REQUIRE(kept->stacks.size() == 1);
    CHECK(kept->stacks[0].outcome == "handed-over");
  }
  {
    state::StoreOptions o;
    o.keep_running = id;
    auto store = state::Store::Open(dir.path(), o);
    REQUIRE(store);
    CHECK((*store)->InterruptedOnOpen() == 0);
    CHECK((*store)->Get(id)->state == DeploymentState::kRunning);
  }
  {
    auto store = state::Store::Open(dir.path());  // no hand-over pending: a crash left it
    REQUIRE(store);
    CHECK((*store)->InterruptedOnOpen() == 1);
    CHECK((*store)->Get(id)->state == DeploymentState::kFailed);
    CHECK((*store)->Get(id)->reason == "interrupted");
  }
}

TEST_CASE("a deployment seen finished already counts in the metrics") {
  // CI once read /metrics right after Wait() returned and found no podcd_deployments_total:
  // the record was saved finished before the counters were bumped. The sink below widens that
  // window so that the old order fails every time.
  metrics::ResetForTest();
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 4);
  auto previous = log::SetSink([](log::Level, std::string_view line) {
    if (line.find("deployment finished") != std::string_view::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  q.Start();
  auto queued = q.Enqueue(All());
  REQUIRE(queued);
  exec.Release();
  std::optional<state::Deployment> seen;
  for (int i = 0; i < 3000 && !(seen && state::IsFinished(seen->state)); ++i) {
    seen = (*store)->Get(queued->id);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(seen);
  REQUIRE(seen->state == DeploymentState::kSucceeded);
  auto text = metrics::Render();
  log::SetSink(previous);
  INFO(text);
  CHECK(text.find("podcd_deployments_total{state=\"succeeded\"} 1") != std::string::npos);
  CHECK(text.find("podcd_deployment_duration_seconds_count 1") != std::string::npos);
  q.Stop();
}

namespace {

state::Trigger Named(state::TriggerKind kind, std::vector<std::string> stacks, bool pull = false) {
  state::Trigger t;
  t.kind = kind;
  t.stacks = std::move(stacks);
  t.all_changed = t.stacks.empty();
  t.pull = pull;
  return t;
}

}  // namespace

TEST_CASE("Covers: the same stacks or more, and a pull whenever the older one pulls") {
  const auto deploy = state::TriggerKind::kDeploy, poll = state::TriggerKind::kPoll;
  CHECK(Covers(All(), Named(poll, {})));
  CHECK(Covers(Named(poll, {}), All()));  // the same work
  CHECK(Covers(Named(deploy, {}, true), All()));
  CHECK_FALSE(Covers(All(), Named(deploy, {}, true)));  // it would not pull
  CHECK(Covers(Named(deploy, {"a", "b"}), Named(deploy, {"a"})));
  CHECK_FALSE(Covers(Named(deploy, {"a"}), Named(deploy, {"a", "b"})));
  // A named stack runs despite its back-off; every changed stack does not name it.
  CHECK_FALSE(Covers(All(), Named(deploy, {"a"})));
  CHECK_FALSE(Covers(Named(deploy, {"a"}), All()));
  // redeploy-and-update pulls.
  CHECK(Covers(One("web"), Named(deploy, {"web"})));
  CHECK(Covers(Named(deploy, {"web", "db"}, true), One("web")));
  CHECK_FALSE(Covers(Named(deploy, {"web", "db"}), One("web")));
  // Unknown kinds cover nothing and are covered by nothing.
  auto future = Named(state::TriggerKind::kUnknown, {});
  future.SetKindWord("future-kind");
  CHECK_FALSE(Covers(future, All()));
  CHECK_FALSE(Covers(All(), future));
}

TEST_CASE("Covers: a force recreate only by another; a sync only by a sync") {
  const auto deploy = state::TriggerKind::kDeploy;
  auto forced = Named(deploy, {"web"});
  forced.force = true;
  CHECK(Covers(forced, Named(deploy, {"web"})));        // it does that and more
  CHECK_FALSE(Covers(Named(deploy, {"web"}), forced));  // it would recreate nothing unchanged
  CHECK_FALSE(Covers(One("web"), forced));
  CHECK_FALSE(forced.SameWork(Named(deploy, {"web"})));
  auto forced_more = Named(deploy, {"web", "db"});
  forced_more.force = true;
  CHECK(Covers(forced_more, forced));
  state::Trigger sync;
  sync.kind = state::TriggerKind::kSync;
  state::Trigger sync2 = sync;
  sync2.actor = "cli";
  CHECK(Covers(sync, sync2));
  CHECK(sync.SameWork(sync2));
  CHECK_FALSE(Covers(All(), sync));  // a deploy records no plan of every stack
  CHECK_FALSE(Covers(sync, All()));  // a sync deploys nothing
  CHECK_FALSE(Covers(Named(state::TriggerKind::kPoll, {}), sync));
}

TEST_CASE(
    "a queued run whose work a newer trigger covers is superseded by it; one that covers a newer joins") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 4);
  std::atomic<int> heard{0};
  q.SetListener([&](const state::Deployment&) { ++heard; });
  q.Start();
  auto running = q.Enqueue(All());
  REQUIRE(running);
  exec.WaitEntered(1);
  const auto deploy = state::TriggerKind::kDeploy;
  auto a = q.Enqueue(Named(deploy, {"a"}));
  auto other = q.Enqueue(One("web"));
  auto ab = q.Enqueue(Named(deploy, {"a", "b"}));  // covers a, not web
  REQUIRE(a);
  REQUIRE(other);
  REQUIRE(ab);
  CHECK_FALSE(ab->coalesced);
  CHECK(q.QueuedCount() == 2);
  auto old = (*store)->Get(a->id);
  REQUIRE(old);
  CHECK(old->state == DeploymentState::kSuperseded);
  CHECK(old->superseded_by == ab->id);
  CHECK(old->reason == "superseded by deployment " + ab->id + ", which does its work");
  CHECK(old->finished_at_ms > 0);
  auto replacing = (*store)->Get(ab->id);
  REQUIRE(replacing);
  REQUIRE_FALSE(replacing->log.empty());
  CHECK(replacing->log.front() == "replaces queued deployment " + a->id + " (deploy), whose work it covers");
  // A trigger whose work a queued run already does joins it.
  auto b_only = q.Enqueue(Named(deploy, {"b"}));
  REQUIRE(b_only);
  CHECK(b_only->id == ab->id);
  CHECK(b_only->coalesced);
  // Waiting on the superseded run waits for the one that does its work; it took its place, so
  // it runs before the redeploy that was queued after it.
  exec.Release();
  exec.Release();
  exec.Release();
  auto done = q.Wait(a->id, std::chrono::seconds(30));
  REQUIRE(done);
  CHECK(done->id == ab->id);
  CHECK(done->state == DeploymentState::kSucceeded);
  REQUIRE(q.Wait(other->id, std::chrono::seconds(30)));
  q.Stop();
  CHECK(exec.Ran() == std::vector<std::string>{"deploy-all-changed", "deploy", "redeploy-and-update"});
  CHECK(heard == 4);  // the superseded record is a final one too
  // The record says so on disk too.
  auto reopened = state::Store::Open(dir.path());
  REQUIRE(reopened);
  auto on_disk = (*reopened)->Get(a->id);
  REQUIRE(on_disk);
  CHECK(on_disk->state == DeploymentState::kSuperseded);
  CHECK(on_disk->superseded_by == ab->id);
}

TEST_CASE("a trigger that supersedes queued runs is accepted by a full queue") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  WorkQueue q(**store, exec, 2);
  q.Start();
  REQUIRE(q.Enqueue(All()));
  exec.WaitEntered(1);
  const auto deploy = state::TriggerKind::kDeploy;
  auto a = q.Enqueue(Named(deploy, {"a"}));
  auto b = q.Enqueue(Named(deploy, {"b"}));
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(q.Enqueue(Named(deploy, {"c"})));  // full
  auto ab = q.Enqueue(Named(deploy, {"a", "b"}));
  REQUIRE(ab);
  CHECK(q.QueuedCount() == 1);
  CHECK((*store)->Get(a->id)->superseded_by == ab->id);
  CHECK((*store)->Get(b->id)->superseded_by == ab->id);
  for (int i = 0; i < 2; ++i) exec.Release();
  REQUIRE(q.Wait(b->id, std::chrono::seconds(30)));
  q.Stop();
}

TEST_CASE("the queue publishes queued, started, each stack's outcome and finished, in order") {
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  ScriptedExecutor exec;
  events::Bus bus;
  std::mutex m;
  std::vector<std::string> heard;
  auto sub = bus.Subscribe([&](const events::Event& e) {
    std::lock_guard lock(m);
    std::string line =
        std::string(events::ToString(e.kind)) + " " + std::string(state::ToString(e.deployment.state));
    if (e.stack) line += " " + e.stack->name + "=" + e.stack->outcome;
    heard.push_back(line);
  });
  WorkQueue q(**store, exec, 4, &bus);
  q.Start();
  auto first = q.Enqueue(All());
  REQUIRE(first);
  exec.WaitEntered(1);
  auto second = q.Enqueue(One("web"));  // queued behind the first
  REQUIRE(second);
  exec.fail_next_ = true;
  exec.Release();
  exec.WaitEntered(2);
  exec.Release();
  REQUIRE(q.Wait(second->id, std::chrono::seconds(30)));
  q.Stop();
  std::lock_guard lock(m);
  CHECK(heard == std::vector<std::string>{
                     "queued queued",
                     "started running",
                     "stack running web=updated",  // the executor sets it before it waits
                     "queued queued",
                     "finished failed",
                     "started running",
                     "stack running web=updated",
                     "finished succeeded",
                 });
}
