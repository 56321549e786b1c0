#include "reconcile/engine.hpp"

#include <algorithm>
#include <set>

#include "config/config.hpp"
#include "git/sync.hpp"
#include "reconcile/spec_map.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace podcd::reconcile {
namespace {

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// The fingerprints of every service of a stack, as one key.
std::string StackKey(const core::DesiredStack& d) {
  std::string key;
  for (const auto& s : d.services) key += s.name + "=" + s.fingerprint + ";";
  return key;
}

}  // namespace

std::optional<std::chrono::milliseconds> Backoff::Blocked(const std::string& stack, const std::string& key,
                                                          std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(stack);
  if (it == entries_.end() || it->second.key != key || now >= it->second.retry_at) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.retry_at - now);
}

void Backoff::Failed(const std::string& stack, const std::string& key,
                     std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[stack];
  e.failures = e.key == key ? e.failures + 1 : 1;
  e.key = key;
  auto delay = kFirst * (1 << std::min(e.failures - 1, 10));
  e.retry_at = now + std::min<std::chrono::milliseconds>(delay, kMax);
}

void Backoff::Succeeded(const std::string& stack) {
  std::lock_guard lock(mutex_);
  entries_.erase(stack);
}

Engine::Engine(std::shared_ptr<const config::Config> config, SyncFn sync, Runtime& runtime, Clock& clock)
    : config_(std::move(config)), sync_(std::move(sync)), runtime_(runtime), clock_(clock) {}

Engine::SyncFn ChildProcessSync(std::shared_ptr<const config::Config> config) {
  return [config]() -> Expected<std::string> {
    auto r = git::SyncInChild(*config);
    if (!r) return std::unexpected(r.error());
    return r->commit;
  };
}

Expected<Snapshot> Engine::Observe(bool sync, bool repair) {
  Snapshot snap;
  if (sync) {
    const auto start = std::chrono::steady_clock::now();
    auto commit = sync_();
    metrics::Observe("podcd_git_sync_seconds", {{"ok", commit ? "true" : "false"}},
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!commit) return std::unexpected(commit.error().WithContext("repository sync"));
    metrics::Set("podcd_last_successful_sync_timestamp_seconds", {},
                 std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    snap.commit = *commit;
  }
  auto desired = LoadDesired(*config_);
  if (!desired) return std::unexpected(desired.error());
  snap.desired = std::move(*desired);
  auto actual = runtime_.ListManaged();
  if (!actual) return std::unexpected(actual.error().WithContext("listing containers"));
  if (repair && std::any_of(actual->begin(), actual->end(), [](const auto& c) { return c.temporary; })) {
    snap.recovered = RecoverTemporaries(*actual, runtime_);
    actual = runtime_.ListManaged();
    if (!actual) return std::unexpected(actual.error().WithContext("listing containers"));
  }
  snap.actual = std::move(*actual);
  snap.plan = core::Plan(snap.desired.stacks, snap.actual);
  return snap;
}

Expected<StackJob> BuildStackJob(const core::StackPlan& plan, const core::Stack& model,
                                 const core::DesiredStack& desired, const std::string& commit,
                                 const std::string& deployment) {
  StackJob job;
  job.name = plan.name;
  for (const auto& sp : plan.services) {
    const core::Service* svc = model.Find(sp.name);
    if (svc == nullptr) {  // an orphan: only its containers matter
      ServiceJob orphan;
      orphan.name = sp.name;
      orphan.action = sp.action;
      orphan.reasons = sp.reasons;
      orphan.old_containers = sp.containers;
      job.services.push_back(std::move(orphan));
      continue;
    }
    DeployLabels labels;
    for (const auto& ds : desired.services) {
      if (ds.name != sp.name) continue;
      labels.fingerprint = ds.fingerprint;
      labels.fields = core::EncodeFieldHashes(ds.field_hashes);
    }
    labels.commit = commit;
    labels.deployment = deployment;
    auto mapped = MapService(model, *svc, labels);
    if (!mapped) return std::unexpected(mapped.error());
    mapped->action = sp.action;
    mapped->reasons = sp.reasons;
    mapped->old_containers = sp.containers;
    job.services.push_back(std::move(*mapped));
  }
  MapStackResources(model, job);
  return job;
}

Expected<void> Engine::Run(const state::Trigger& trigger, RunContext& ctx) {
  auto snap = Observe(true, true);
  if (!snap) {
    ctx.Log("error: " + snap.error().What());
    return std::unexpected(snap.error());
  }
  ctx.SetCommit(snap->commit);
  ctx.Log("repository at " + snap->commit.substr(0, 12) + "; " + std::to_string(snap->desired.stacks.size()) +
          " stacks, " + std::to_string(snap->actual.size()) + " managed containers");
  for (const auto& r : snap->recovered) ctx.Log("recovered interrupted deployment: " + r);

  // Which stacks this trigger is about.
  std::set<std::string> named(trigger.stacks.begin(), trigger.stacks.end());
  for (const auto& n : named) {
    if (!snap->plan.Find(n)) return Fail(ErrorCode::kNotFound, "no stack named " + n + " in the repository");
  }
  const bool update_images = trigger.pull || trigger.kind == state::kKindRedeployAndUpdate;
  std::vector<const core::StackPlan*> todo;
  bool failed = false;
  std::vector<std::string> failures;
  for (const auto& sp : snap->plan.stacks) {
    bool selected = named.empty() ? true : named.contains(sp.name);
    if (!selected) continue;
    if (sp.action == core::Action::kInvalid || sp.action == core::Action::kRefused) {
      std::string reason = Join(sp.reasons, "; ");
      ctx.Log("stack " + sp.name + " " + std::string(core::ToString(sp.action)) + ": " + reason);
      ctx.SetStackOutcome({sp.name, std::string(core::ToString(sp.action)), reason, 0});
      failed = true;
      failures.push_back(sp.name + " " + std::string(core::ToString(sp.action)));
      continue;
    }
    if (sp.action == core::Action::kRemove) {
      if (!config_->prune) {
        ctx.Log("stack " + sp.name + " is gone from the repository; kept (prune is off)");
        continue;
      }
      todo.push_back(&sp);
      continue;
    }
    if (!named.empty() || sp.NeedsApply() || update_images) todo.push_back(&sp);
  }
  // podcd's own stack goes last: replacing it stops this process.
  const std::string& self = config_->self.stack;
  std::stable_partition(todo.begin(), todo.end(), [&](const auto* sp) { return sp->name != self; });

  GateOptions gate;
  gate.timeout = config_->health.timeout;
  gate.settle = config_->health.settle;
  gate.healthy_count = static_cast<int>(config_->health.healthy_count);
  for (const auto* sp : todo) {
    if (ctx.StopRequested()) {
      ctx.Log("stopping: remaining stacks left for the next reconcile");
      return Fail(ErrorCode::kUnavailable, "interrupted");
    }
    auto log = [&ctx, name = sp->name](const std::string& l) { ctx.Log("[" + name + "] " + l); };
    StackResult result;
    if (sp->action == core::Action::kRemove) {
      result = RemoveStack(*sp, runtime_, log);
    } else if (!self.empty() && sp->name == self && sp->NeedsApply()) {
      // The hand-over to an updater container arrives with issue 6; never stop ourselves half-way.
      ctx.Log("stack " + self + " is podcd itself and changed; self-update is not built yet, left as is");
      ctx.SetStackOutcome({sp->name, "skipped", "self-update not built yet", 0});
      continue;
    } else if (auto wait = backoff_.Blocked(sp->name, StackKey(*snap->desired.Find(sp->name)), clock_.Now());
               wait && named.empty()) {
      // The same stack failed at this very fingerprint: not again on every trigger or poll.
      // It is retried when its fingerprint changes, when the back-off ends, or when named.
      std::string why =
          "failed before at this fingerprint; retried when it changes, on an explicit redeploy, or in " +
          std::to_string(wait->count() / 1000) + " s";
      ctx.Log("stack " + sp->name + " backing off: " + why);
      ctx.SetStackOutcome({sp->name, "backoff", why, 0});
      continue;
    } else {
      auto job = BuildStackJob(*sp, snap->desired.models.at(sp->name), *snap->desired.Find(sp->name),
                               snap->commit, ctx.Id());
      if (!job) {
        ctx.SetStackOutcome({sp->name, "failed", job.error().What(), 0});
        ctx.Log("stack " + sp->name + " failed: " + job.error().What());
        failed = true;
        failures.push_back(sp->name);
        continue;
      }
      job->update_images = update_images;
      for (const auto& r : sp->reasons) log("plan: " + r);
      result = ApplyStack(*job, runtime_, clock_, gate, log);
    }
    ctx.SetStackOutcome({sp->name, result.outcome, result.reason, result.duration_ms});
    if (const auto* d = snap->desired.Find(sp->name); d != nullptr && sp->action != core::Action::kRemove) {
      if (result.ok)
        backoff_.Succeeded(sp->name);
      else
        backoff_.Failed(sp->name, StackKey(*d), clock_.Now());
    }
    if (!result.ok) {
      failed = true;
      failures.push_back(sp->name);
    }
  }
  if (todo.empty()) ctx.Log("nothing to do: every stack is in sync");
  if (failed) return Fail(ErrorCode::kInternal, "failed stacks: " + Join(failures, ", "));
  return {};
}

}  // namespace podcd::reconcile
