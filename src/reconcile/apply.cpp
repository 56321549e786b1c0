#include "reconcile/apply.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "reconcile/apply_internal.hpp"
#include "reconcile/gate.hpp"
#include "reconcile/hooks.hpp"
#include "reconcile/images.hpp"
#include "reconcile/network_replace.hpp"
#include "reconcile/replace_plan.hpp"
#include "util/guarded.hpp"
#include "util/log.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace detail {
namespace {

bool IsWork(core::Action a) { return a == core::Action::kCreate || a == core::Action::kRecreate; }

}  // namespace

bool StackRun::EnsureNetworksAndVolumes(StackResult& result) {
  for (const auto& name : job_.external_networks) {
    auto exists = rt_.NetworkExists(name);
    if (!exists || !*exists) {
      result.reason = "external network " + name + " does not exist" +
                      (exists ? std::string() : ": " + exists.error().What());
      return false;
    }
  }
  for (const auto& n : job_.networks) {
    if (!EnsureNetwork(n, result)) {
      RestoreNetworks();
      return false;
    }
  }
  for (const auto& v : job_.volumes) {
    auto created = rt_.EnsureVolume(v);
    if (!created) {
      result.reason = "volume " + v.name + ": " + created.error().What();
      return false;
    }
    if (*created) {
      ++write_calls_;
      Log("created volume " + v.name);
    }
  }
  return true;
}

bool StackRun::EnsureNetwork(const podman::NetworkCreate& n, StackResult& result) {
  auto have = rt_.InspectNetwork(n.name);
  if (!have && have.error().code != ErrorCode::kNotFound) {
    result.reason = "network " + n.name + ": " + have.error().What();
    return false;
  }
  if (have && NetworkChanged(n, *have)) {
    std::vector<std::string> containers;
    for (const auto& s : services_)
      containers.insert(containers.end(), s.old_containers.begin(), s.old_containers.end());
    auto swap = ReplaceNetwork(rt_, n, *have, containers);
    write_calls_ += 2;
    if (!swap) {
      result.reason = swap.error().What();
      return false;
    }
    Log("network " + n.name + " changed: made again (" + std::to_string(swap->members.size()) +
        " old container(s) taken off it until their replacement)");
    swaps_.push_back(std::move(*swap));
    return true;
  }
  auto created = rt_.EnsureNetwork(n);
  if (!created) {
    result.reason = "network " + n.name + ": " + created.error().What();
    return false;
  }
  if (*created) {
    ++write_calls_;
    Log("created network " + n.name);
  }
  return true;
}

// The stack rolled back: its old containers run again; the networks they were on come back.
void StackRun::RestoreNetworks() {
  for (auto it = swaps_.rbegin(); it != swaps_.rend(); ++it) {
    RestoreNetwork(rt_, *it, [this](const std::string& line) { Log("warning: " + line); });
    write_calls_ += 2;
    Log("network " + it->old.name + " restored as it was");
  }
  swaps_.clear();
}

void StackRun::SetReadiness(const std::string& service, Readiness r) {
  shared_.Lock()->readiness[service] = r;
  ready_cv_.notify_all();
}

bool StackRun::WaitForDependencies(const ServiceJob& s, std::string& why, const std::string& except) {
  auto shared = shared_.Lock();
  auto& readiness = shared->readiness;
  for (const auto& dep : s.depends_on) {
    if (dep.service == except) continue;
    if (!readiness.contains(dep.service)) continue;  // not part of this stack's job
    Readiness need = dep.condition == DependencyCondition::kStarted ? Readiness::kStarted : Readiness::kReady;
    shared.Wait(ready_cv_, [&](Shared& sh) {
      auto r = sh.readiness[dep.service];
      return r == Readiness::kFailed || static_cast<int>(r) >= static_cast<int>(need);
    });
    if (readiness[dep.service] == Readiness::kFailed) {
      why = "dependency " + dep.service + " failed";
      return false;
    }
  }
  return true;
}

GateKind StackRun::GateFor(const ServiceJob& s) const {
  bool awaited_to_complete = false;
  for (const auto& other : services_) {
    for (const auto& dep : other.depends_on) {
      if (dep.service == s.name && dep.condition == DependencyCondition::kCompletedSuccessfully)
        awaited_to_complete = true;
    }
  }
  return GateKindFor(s.has_healthcheck, awaited_to_complete);
}

Expected<void> StackRun::Gate(const ServiceJob& s, const std::string& id) {
  // The slots bound concurrent Podman operations, not waiting: a service that only watches
  // its new container lets the next one be created, or a stack of N services would take
  // N / max_parallel settle times.
  ReleaseSlot();
  ScopeExit reacquire([this] { AcquireSlot(); });
  const auto start = clock_.Now();
  auto first = rt_.Inspect(id);
  if (!first) return std::unexpected(first.error());
  const GateSpec spec = MakeGateSpec(GateFor(s), gate_.timeout, gate_.settle, gate_.healthy_count, gate_.poll,
                                     s.health_interval, s.health_start_period, s.health_retries);
  GateState state = GateStart(start, first->restart_count);
  for (;;) {
    GateObservation seen;
    seen.stopping = gate_.stopping && gate_.stopping();
    if (!seen.stopping) {
      auto st = rt_.Inspect(id);
      if (!st) return std::unexpected(st.error());
      seen.status = st->status;
      seen.running = st->running;
      seen.exit_code = st->exit_code;
      seen.restart_count = st->restart_count;
    }
    GateDecision d = GateStep(spec, state, seen, clock_.Now());
    if (d.verdict == GateDecision::Verdict::kCheck) {
      auto h = rt_.Healthcheck(id);
      if (!h) return std::unexpected(h.error());
      seen.health = GateObservation::Health{h->status, h->output};
      d = GateStep(spec, state, seen, clock_.Now());
    }
    state = d.state;
    if (d.verdict == GateDecision::Verdict::kPass) return {};
    if (d.verdict == GateDecision::Verdict::kFail) return Fail(d.code, d.reason);
    clock_.Sleep(spec.sleep);
  }
}

// A failing container may print what it was given (a secret) or megabytes on one line: the
// record keeps a few KB, masked before they are cut so that no secret is cut in two.
std::string StackRun::LastLogs(const std::string& id) {
  auto logs = rt_.Logs(id, 10);
  if (!logs || logs->empty()) return "";
  return "; last log lines: " + LastBytes(log::Masked(JoinLines(*logs, 10)));
}

bool StackRun::HasDependents(const ServiceJob& s) const {
  for (const auto& other : services_) {
    for (const auto& dep : other.depends_on) {
      if (dep.service == s.name) return true;
    }
  }
  return false;
}

ReplaceTarget StackRun::Target(const ServiceJob& s) {
  return {s.name, s.publishes_host_ports || s.fixed_address, s.shares_namespace};
}

void StackRun::AcquireSlot() {
  auto busy = busy_.Lock();
  busy.Wait(slots_cv_, [&](std::size_t n) { return n < std::max<std::size_t>(1, gate_.max_parallel); });
  ++*busy;
}

void StackRun::ReleaseSlot() {
  --*busy_.Lock();
  slots_cv_.notify_one();
}

void StackRun::RunGroup(size_t owner, const std::vector<size_t>& joiners) {
  const auto start = clock_.Now();
  const ServiceJob& o = services_[owner];
  std::string why;
  bool ready = WaitForDependencies(o, why);
  for (size_t k = 0; ready && k < joiners.size(); ++k)
    ready = WaitForDependencies(services_[joiners[k]], why, o.name);
  if (!ready) {
    Finish(owner, {o.name, ServiceOutcome::kSkipped, why, 0, -1}, start);
    for (auto j : joiners) Finish(j, {services_[j].name, ServiceOutcome::kSkipped, why, 0, -1}, start);
    return;
  }
  std::vector<size_t> members{owner};
  std::vector<ReplaceTarget> targets;
  for (auto j : joiners) {
    members.push_back(j);
    targets.push_back(Target(services_[j]));
  }
  Prepare(ReplacePlan(Target(o), targets), std::move(members), start);
}

void StackRun::RunService(size_t index) {
  const ServiceJob& s = services_[index];
  const auto start = clock_.Now();
  std::string why;
  if (!WaitForDependencies(s, why)) {
    Finish(index, {s.name, ServiceOutcome::kSkipped, why, 0, -1}, start);
    return;
  }
  // A new service with nothing to roll back to and nobody waiting on it is not held for the
  // settle time (compose does not wait either): Run() checks once, at the end, that it runs.
  const ReplacementPlan plan =
      s.action == core::Action::kCreate
          ? CreatePlan(Target(s), GateFor(s) == GateKind::kSettle && !HasDependents(s))
          : ReplacePlan(Target(s), {});
  Prepare(plan, {index}, start);
}

void StackRun::Finish(size_t index, ServiceResult result, TimePoint start) {
  const ServiceJob& s = services_[index];
  ServiceResult& out = results_[index];
  out = std::move(result);
  if (out.outcome == ServiceOutcome::kSkipped) {
    SetReadiness(s.name, Readiness::kFailed);
    return;
  }
  out.duration_ms = Elapsed(clock_, start);
  const bool ok = Succeeded(out.outcome);
  SetReadiness(s.name, ok ? Readiness::kReady : Readiness::kFailed);
  std::string line =
      s.name + ": " + std::string(ToString(out.outcome)) + " in " + std::to_string(out.duration_ms) + " ms";
  if (out.gap_ms >= 0) line += " (gap " + std::to_string(out.gap_ms) + " ms)";
  if (!s.reasons.empty() && ok) {
    line += " because ";
    for (size_t i = 0; i < s.reasons.size(); ++i) line += (i ? ", " : "") + s.reasons[i];
  }
  if (!out.reason.empty()) line += ": " + out.reason;
  Log(line);
}

const core::Hook* StackRun::FindHook(std::string_view name) const {
  for (const auto& h : job_.hooks) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

HookResult StackRun::RunHook(const core::Hook& hook) {
  const auto start = clock_.Now();
  Log("hook " + hook.name + (hook.host ? " (on podcd's host)" : " (as service " + hook.service + ")") +
      ": running " + log::Masked(Join(hook.command, " ")));
  HookResult r;
  r.name = hook.name;
  if (hook.host) {
    r = RunHostHook(hook, job_.hook_env, job_.dir);
  } else {
    auto svc = std::find_if(services_.begin(), services_.end(),
                            [&](const ServiceJob& s) { return s.name == hook.service; });
    if (svc == services_.end() || svc->spec.image.empty()) {
      r.error = "service " + hook.service + " is not deployed by this stack";
    } else {
      const podman::ContainerSpec spec = HookSpec(svc->spec, hook, job_.name, job_.hook_env);
      if (auto refused = RecheckBinds(svc->name, spec)) {
        r.error = refused->What();
      } else {
        r = RunContainerHook(hook, spec, rt_, clock_);
        write_calls_ += 3;  // create, start, remove
      }
    }
  }
  const auto lines = SplitLines(r.output);
  constexpr std::size_t kLoggedLines = 100;
  const std::size_t from = lines.size() > kLoggedLines ? lines.size() - kLoggedLines : 0;
  for (std::size_t i = from; i < lines.size(); ++i) Log("hook " + hook.name + " | " + std::string(lines[i]));
  Log(r.Describe() + " in " + std::to_string(Elapsed(clock_, start)) + " ms");
  return r;
}

void StackRun::HookFailed(const HookResult& r, StackResult& result) {
  result.hook = r.name;
  if (r.ran) result.hook_exit_code = r.exit_code;
  result.hook_output = r.output;
  result.reason = r.Describe();
  if (!r.output.empty()) result.reason += "; last output: " + LastBytes(JoinLines(r.output, 10));
}

bool StackRun::PreHooks(StackResult& result) {
  if (const core::Hook* check = FindHook("check")) {
    HookResult r = RunHook(*check);
    if (!r.ran) {
      HookFailed(r, result);
      return false;
    }
    if (r.Ok()) {
      Log("hook check: ready (exit 0), prepare not needed");
    } else if (const core::Hook* prepare = FindHook("prepare")) {
      HookResult p = RunHook(*prepare);
      if (!p.Ok()) {
        HookFailed(p, result);
        return false;
      }
    }
  }
  if (const core::Hook* pre = FindHook("pre_deploy")) {
    HookResult r = RunHook(*pre);
    if (!r.Ok()) {
      HookFailed(r, result);
      return false;
    }
  }
  return true;
}

void StackRun::PostHook() {
  const core::Hook* post = FindHook("post_deploy");
  if (post == nullptr) return;
  std::vector<std::string> names;
  std::vector<ServiceOutcome> outcomes;
  for (const auto& r : results_) {
    names.push_back(r.name);
    outcomes.push_back(r.outcome);
  }
  if (!JudgeStack(names, outcomes).commit) return;  // rolls back anyway: nothing deployed to check
  HookResult r = RunHook(*post);
  if (!r.Ok()) post_failed_ = std::move(r);
}

StackResult StackRun::Run() {
  const auto start = clock_.Now();
  StackResult result;
  result.name = job_.name;
  auto finish = [&](bool ok) {
    result.ok = ok;
    result.duration_ms = Elapsed(clock_, start);
    result.write_calls = write_calls_;
    return result;
  };
  // 1. Every image first: a pull failure fails the stack with nothing touched.
  StackImages images(
      rt_, clock_, job_.update_images, [this](const std::string& l) { Log(l); }, write_calls_);
  images.KeepUploaded(job_.uploaded_images);
  const bool prepared = images.Prepare(services_, result.reason);
  result.brought = images.TakeBrought();
  if (!prepared) {
    result.outcome = StackOutcomeKind::kFailed;
    Log("stack " + job_.name + " failed before any change: " + result.reason);
    return finish(false);
  }
  bool any_work = std::any_of(services_.begin(), services_.end(), [](const auto& s) {
    return IsWork(s.action) || s.action == core::Action::kRemove;
  });
  if (!any_work) {
    result.outcome = StackOutcomeKind::kUnchanged;
    for (const auto& s : services_)
      result.services.push_back({s.name, ServiceOutcome::kUnchanged, "", 0, -1});
    return finish(true);
  }
  if (!EnsureNetworksAndVolumes(result)) {
    result.outcome = StackOutcomeKind::kFailed;
    Log("stack " + job_.name + " failed before any change: " + result.reason);
    return finish(false);
  }
  // Hooks need the stack's networks and volumes; a failing one leaves the old containers be.
  if (!PreHooks(result)) {
    RestoreNetworks();
    result.outcome = StackOutcomeKind::kFailed;
    Log("stack " + job_.name + " failed before any change: " + result.reason +
        " (the old containers keep serving)");
    return finish(false);
  }
  // 2. Each service in its own task; a dependent waits for what its depends_on condition
  //    needs (started, healthy, or exited 0); unrelated services proceed in parallel.
  RunServices();
  CheckUnsettled();
  PostHook();
  // 3. One transaction: every change commits, or the stack goes back to what ran before.
  const StackVerdict verdict = Settle();
  bool failed = false;
  if (post_failed_) {
    failed = true;
    HookFailed(*post_failed_, result);
  }
  std::string rolled_back;  // the services the stack's rollback undid
  for (const auto& r : results_) {
    if (!FailsStack(r.outcome)) continue;
    failed = true;
    const bool cause = verdict.commit || std::find(verdict.failed.begin(), verdict.failed.end(), r.name) !=
                                             verdict.failed.end();
    if (!cause) rolled_back += (rolled_back.empty() ? "" : ", ") + r.name;
    if (result.reason.empty() && cause)
      result.reason = r.name + " " + std::string(ToString(r.outcome)) + ": " + r.reason;
  }
  if (!rolled_back.empty()) result.reason += "; the stack was rolled back: " + rolled_back;
  if (failed && !verdict.commit) RestoreNetworks();
  // 4. Services removed from the compose file go only when everything else succeeded.
  RemoveDropped(failed);
  for (auto& r : results_) {
    if (!r.name.empty()) result.services.push_back(std::move(r));
  }
  result.outcome = failed ? StackOutcomeKind::kFailed : StackOutcomeKind::kUpdated;
  return finish(!failed);
}

void StackRun::RunServices() {
  results_.assign(services_.size(), ServiceResult{});
  {
    auto shared = shared_.Lock();
    for (const auto& s : services_) {
      if (s.action == core::Action::kRemove) continue;
      shared->readiness[s.name] = IsWork(s.action) ? Readiness::kPending : Readiness::kReady;
    }
  }
  // An owner being replaced takes the services that join its namespaces along (ReplacePlan).
  std::vector<std::string> names;
  std::vector<bool> recreate, work;
  std::vector<std::vector<std::string>> joins;
  for (const auto& s : services_) {
    names.push_back(s.name);
    recreate.push_back(s.action == core::Action::kRecreate);
    work.push_back(IsWork(s.action));
    joins.push_back(s.joins);
  }
  std::map<size_t, std::vector<size_t>> groups;
  std::set<size_t> in_group;
  for (auto& g : NamespaceGroups(names, recreate, work, joins)) {
    in_group.insert(g.joiners.begin(), g.joiners.end());
    groups[g.owner] = std::move(g.joiners);
  }
  std::vector<std::thread> tasks;
  for (size_t i = 0; i < services_.size(); ++i) {
    const auto& s = services_[i];
    if (in_group.contains(i)) continue;
    if (auto g = groups.find(i); g != groups.end()) {
      tasks.emplace_back([this, i, joiners = g->second] { RunGroup(i, joiners); });
    } else if (IsWork(s.action)) {
      tasks.emplace_back([this, i] { RunService(i); });
    } else if (s.action == core::Action::kUnchanged) {
      results_[i] = {s.name, ServiceOutcome::kUnchanged, "", 0, -1};
    }
  }
  for (auto& t : tasks) t.join();
}

// New services that were not held for the settle time must still run now.
void StackRun::CheckUnsettled() {
  const auto unsettled = shared_.Lock()->unsettled;
  for (const auto& [name, id] : unsettled) {
    auto st = rt_.Inspect(id);
    if (st && st->running) continue;
    for (auto& r : results_) {
      if (r.name != name) continue;
      r.outcome = ServiceOutcome::kFailed;
      r.reason = st ? "container " + st->status +
                          (st->status == "exited" ? " with code " + std::to_string(st->exit_code) : "")
                    : st.error().What();
      r.reason += LastLogs(id);
      Log(name + ": failed after start: " + r.reason);
    }
  }
}

// All stop first; a container whose namespaces another removed one joined (a VPN sidecar) can
// only go after it, so what fails to go is tried again once the rest is gone.
void StackRun::RemoveDropped(bool failed) {
  std::vector<std::pair<size_t, std::string>> removed, later;
  for (size_t i = 0; i < services_.size(); ++i) {
    const auto& s = services_[i];
    if (s.action != core::Action::kRemove) continue;
    if (failed) {
      results_[i] = {s.name, ServiceOutcome::kKept, "not removed because the deployment failed", 0, -1};
      continue;
    }
    for (const auto& id : s.old_containers) {
      (void)Write(rt_.Stop(id, s.stop_grace));
      removed.emplace_back(i, id);
    }
  }
  for (const auto& [i, id] : removed) {
    if (!Write(rt_.Remove(id))) later.emplace_back(i, id);
  }
  for (const auto& [i, id] : later) {
    if (auto r = Write(rt_.Remove(id)); !r)
      Log("warning: remove " + services_[i].name + " " + id.substr(0, 12) + ": " + r.error().What());
  }
  for (size_t i = 0; i < services_.size(); ++i) {
    const auto& s = services_[i];
    if (s.action != core::Action::kRemove || failed) continue;
    // The plan's reason: deleted from the file, or its profiles switched off.
    const std::string why = s.reasons.empty() ? "service removed from the compose file" : s.reasons.front();
    results_[i] = {s.name, ServiceOutcome::kRemoved, why, 0, -1};
    Log(s.name + ": removed (" +
        (why == "service removed from the compose file" ? "no longer in the compose file" : why) + ")");
  }
}

}  // namespace detail

StackResult ApplyStack(const StackJob& job, Runtime& runtime, Clock& clock, const GateOptions& gate,
                       const LogFn& log) {
  detail::StackRun run(job, runtime, clock, gate, log);
  return run.Run();
}

Clock& RealClock() {
  struct Real final : Clock {
    std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
    void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
  };
  static Real clock;
  return clock;
}

}  // namespace podcd::reconcile