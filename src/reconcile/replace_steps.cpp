#include "reconcile/apply_internal.hpp"

#include <algorithm>
#include <thread>

#include "util/strings.hpp"

// The steps of a replacement plan (replace_plan.hpp) run against the Runtime, and the stack's
// transaction at the end: each prepared change commits, or every one rolls back.

namespace podcd::reconcile::detail {
namespace {

// `net` with `name` among its aliases: a renamed container keeps answering its old name in
// Podman's DNS, never the new one, so a replacement's new container answers its final name so.
podman::NetworkAttachment WithName(podman::NetworkAttachment net, const std::string& name) {
  if (std::find(net.aliases.begin(), net.aliases.end(), name) == net.aliases.end())
    net.aliases.push_back(name);
  return net;
}

}  // namespace

void StackRun::Cleanup(const std::string& id, const ServiceJob& s) {
  if (auto r = Write(rt_.Stop(id, s.stop_grace)); !r)
    Log("warning: stop of failed container: " + r.error().What());
  if (auto r = Write(rt_.Remove(id)); !r) Log("warning: removal of failed container: " + r.error().What());
}

void StackRun::StopOld(const ServiceJob& s) {
  for (const auto& old : s.old_containers) {
    if (auto r = Write(rt_.Stop(old, s.stop_grace)); !r)
      Log("warning: stop " + old.substr(0, 12) + ": " + r.error().What());
  }
}

void StackRun::StartOld(const ServiceJob& s) {
  for (const auto& old : s.old_containers) {
    if (auto r = Write(rt_.Start(old)); !r)
      Log("error: could not restart old container " + old.substr(0, 12) + ": " + r.error().What());
  }
}

void StackRun::Disconnect(const ServiceJob& s) {
  for (const auto& old : s.old_containers) {
    for (const auto& net : s.spec.networks) {
      if (auto r = Write(rt_.Disconnect(old, net.name)); !r)
        Log("warning: disconnect " + old.substr(0, 12) + " from " + net.name + ": " + r.error().What());
    }
  }
}

// The binds of a container about to be created, resolved now: the plan checked them when the
// stack was loaded, but a directory a container writes can turn a source into a symlink since.
std::optional<Error> StackRun::RecheckBinds(const std::string& service,
                                            const podman::ContainerSpec& spec) const {
  if (!job_.bind_guard || !job_.bind_guard->settings.resolve) return std::nullopt;
  const core::BindGuard& guard = *job_.bind_guard;
  for (const auto& b : spec.binds) {
    const bool read_only = std::find(b.options.begin(), b.options.end(), "ro") != b.options.end();
    if (auto v = core::CheckBindNow(guard, service, b.source, guard.settings.resolve(b.source), read_only))
      return Error{ErrorCode::kPermissionDenied, v->reason, "stack " + job_.name};
  }
  return std::nullopt;
}

// The new container of a plan's member: its spec, under the temporary name (unlisted: without
// its aliases), joining the new owner's namespaces by id where it joined the owner by name.
Expected<std::string> StackRun::CreateNew(const Step& step, const Progress& progress) {
  const ServiceJob& s = *progress.jobs[step.member];
  podman::ContainerSpec spec = s.spec;
  if (step.temporary) {
    spec.name = core::TemporaryName(s.spec.name);
    for (auto& net : spec.networks)
      if (step.unlisted)
        net.aliases.clear();
      else
        net = WithName(net, s.spec.name);
  }
  if (step.join_owner) {
    const std::string by_name = "container:" + progress.jobs[0]->spec.name;
    for (std::string* mode : {&spec.network_mode, &spec.pid_mode, &spec.ipc_mode}) {
      if (*mode == by_name) *mode = "container:" + progress.new_ids[0];
    }
  }
  if (auto refused = RecheckBinds(s.name, spec)) return std::unexpected(*refused);
  auto created = Write(rt_.Create(spec));
  // Podman holds the name from the start of a create, before it lists the container: a
  // create still on its way is waited for (up to ~5 s).
  for (int wait = 0; wait < 25 && !created && created.error().code == ErrorCode::kAlreadyExists; ++wait) {
    const Leftover found = RemoveLeftover(s, spec.name);
    if (found == Leftover::kKept) break;
    if (found == Leftover::kNotYet) clock_.Sleep(Ms(200));
    created = Write(rt_.Create(spec));
  }
  return created;
}

// A killed run's last create may reach Podman after the next run listed the containers: its
// container then holds the name this run creates. One of this service's, and none of those it
// replaces, it is a leftover of that run and goes.
StackRun::Leftover StackRun::RemoveLeftover(const ServiceJob& s, const std::string& name) {
  auto all = rt_.ListManaged();
  // Podman's list can fail while another container goes (a sibling service's own leftover):
  // asked again, like a create still on its way.
  if (!all) return Leftover::kNotYet;
  for (const auto& c : *all) {
    if (c.name != name) continue;
    if (c.stack != job_.name || c.service != s.name ||
        std::find(s.old_containers.begin(), s.old_containers.end(), c.id) != s.old_containers.end())
      return Leftover::kKept;
    if (!Write(rt_.Remove(c.id))) return Leftover::kKept;
    Log(s.name + ": removed " + name + " (" + c.status + "), left by an interrupted deployment");
    return Leftover::kRemoved;
  }
  // Not listed: not podcd's (a container without its labels), or a create that Podman answers
  // by name before its list shows it. Both are asked again; the caller's wait is bounded (~5 s),
  // so a name a person took fails the create after it, with Podman's words.
  return Leftover::kNotYet;
}

// Runs one step; an error is the step's failure (warnings are logged here).
Expected<void> StackRun::RunStep(const Step& step, Progress& progress) {
  const ServiceJob& s = *progress.jobs[step.member];
  std::string& id = progress.new_ids[step.member];
  switch (step.op) {
    case StepOp::kCreate: {
      auto created = CreateNew(step, progress);
      if (!created) return std::unexpected(created.error());
      id = *created;
      return {};
    }
    case StepOp::kStart: return Write(rt_.Start(id));
    case StepOp::kMarkStarted: SetReadiness(s.name, Readiness::kStarted); return {};
    case StepOp::kGate: return Gate(s, id);
    case StepOp::kDeferCheck: {
      shared_.Lock()->unsettled.emplace_back(s.name, id);
      return {};
    }
    case StepOp::kMarkGap:
      progress.gap = progress.stopped_at ? Elapsed(clock_, *progress.stopped_at) : 0;
      return {};
    case StepOp::kAlias:
      for (const auto& net : s.spec.networks) {
        if (auto r = Write(rt_.SetAliases(id, WithName(net, s.spec.name))); !r) return r;
      }
      return {};
    case StepOp::kDisconnect: Disconnect(s); return {};
    case StepOp::kStopOld:
      if (!progress.stopped_at) progress.stopped_at = clock_.Now();
      progress.stopped[step.member] = true;
      StopOld(s);
      return {};
    case StepOp::kRemoveOld:
      for (const auto& old : s.old_containers) {
        // Gone already (an interrupted run's removal that reached Podman late) is what we want.
        auto r = Write(rt_.Remove(old));
        if (r || r.error().code == ErrorCode::kNotFound) continue;
        // The stack has committed: going back for this one service would leave it half old.
        // The old container steps aside (stopped) and the next run removes it.
        const std::string retired = core::RetiredName(s.spec.name);
        if (!Write(rt_.Rename(old, retired))) return r;
        std::string& note = progress.notes[step.member];
        note += (note.empty() ? "" : "; ") + ("old container kept stopped as " + retired +
                                              " (the next run removes it): remove: " + r.error().What());
        Log(s.name + ": " + note);
      }
      return {};
    case StepOp::kRename:
      // The new container runs and serves; only its name is off. The next reconcile finishes it.
      if (auto r = Write(rt_.Rename(id, s.spec.name)); !r)
        Log("warning: rename to " + s.spec.name + ": " + r.error().What());
      return {};
    case StepOp::kCleanupNew:
      if (!id.empty()) Cleanup(id, s);
      return {};
    case StepOp::kStartOld:
      if (progress.stopped[step.member]) StartOld(s);
      return {};
  }
  return {};
}

std::vector<ServiceResult> StackRun::All(const Progress& progress, ServiceOutcome outcome,
                                         const std::string& why, std::int64_t gap) {
  std::vector<ServiceResult> out;
  for (const auto* j : progress.jobs) out.push_back({j->name, outcome, why, 0, gap});
  return out;
}

std::optional<std::vector<ServiceResult>> StackRun::Steps(const ReplacementPlan& plan, Progress& progress,
                                                          size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const Step& step = plan.steps[i];
    auto r = RunStep(step, progress);
    if (r || step.on_error == OnError::kWarn) continue;
    const std::string& id = progress.new_ids[step.member];
    std::string why = step.what + ": " + r.error().What() + (step.with_logs ? LastLogs(id) : "") + step.kept;
    if (step.on_error == OnError::kFail) return All(progress, ServiceOutcome::kFailed, why, -1);
    for (const Step& back : plan.rollback) (void)RunStep(back, progress);
    if (!plan.replaces) return All(progress, ServiceOutcome::kFailed, why, -1);
    const std::int64_t gap = progress.stopped_at ? Elapsed(clock_, *progress.stopped_at) : 0;
    if (!plan.rollback_log.empty()) Log(plan.rollback_log + ": " + why);
    return All(progress, ServiceOutcome::kRolledBack, why, gap);
  }
  return std::nullopt;
}

void StackRun::Prepare(const ReplacementPlan& plan, std::vector<size_t> members, TimePoint start) {
  Change change{plan, {}, std::move(members), start};
  for (auto m : change.members) change.progress.jobs.push_back(&services_[m]);
  change.progress.new_ids.assign(change.members.size(), "");
  change.progress.stopped.assign(change.members.size(), false);
  change.progress.notes.assign(change.members.size(), "");
  AcquireSlot();
  auto failed = Steps(change.plan, change.progress, 0, change.plan.commit);
  ReleaseSlot();
  if (failed) {
    for (size_t k = 0; k < change.members.size(); ++k) Finish(change.members[k], (*failed)[k], start);
    return;
  }
  // What the stack's verdict counts until the commit: the change went through.
  const auto outcome = plan.replaces ? ServiceOutcome::kRecreated : ServiceOutcome::kCreated;
  std::vector<std::string> names;
  {
    auto shared = shared_.Lock();
    for (auto m : change.members) {
      results_[m] = {services_[m].name, outcome, "", 0, -1};
      names.push_back(services_[m].name);
    }
    shared->prepared.push_back(std::move(change));
  }
  for (const auto& name : names) SetReadiness(name, Readiness::kReady);
}

StackVerdict StackRun::Settle() {
  std::vector<std::string> names;
  std::vector<ServiceOutcome> outcomes;
  for (const auto& r : results_) {
    names.push_back(r.name);
    outcomes.push_back(r.outcome);
  }
  StackVerdict verdict = JudgeStack(names, outcomes);
  if (post_failed_) {
    verdict.commit = false;
    verdict.failed.push_back("hook post_deploy");
  }
  std::vector<std::thread> tasks;
  // The service tasks have ended: the prepared changes are this thread's now.
  std::vector<Change> prepared = std::move(shared_.Lock()->prepared);
  for (auto& change : prepared) {
    // A change with nothing left to commit (a new service) finishes here, without a thread.
    if (prepared.size() == 1 || (verdict.commit && change.plan.commit == change.plan.steps.size())) {
      verdict.commit ? Commit(change) : RollBack(change, verdict);
    } else {
      tasks.emplace_back(
          [this, &change, &verdict] { verdict.commit ? Commit(change) : RollBack(change, verdict); });
    }
  }
  for (auto& t : tasks) t.join();
  return verdict;
}

void StackRun::Commit(Change& change) {
  AcquireSlot();
  auto failed = Steps(change.plan, change.progress, change.plan.commit, change.plan.steps.size());
  ReleaseSlot();
  auto results = failed ? std::move(*failed)
                        : All(change.progress,
                              change.plan.replaces ? ServiceOutcome::kRecreated : ServiceOutcome::kCreated,
                              "", change.plan.replaces ? change.progress.gap : -1);
  for (size_t k = 0; k < change.members.size(); ++k) {
    if (!failed) results[k].reason = change.progress.notes[k];
    Finish(change.members[k], results[k], change.start);
  }
}

// The previous containers serve again (started where they were stopped); a new service goes.
void StackRun::RollBack(Change& change, const StackVerdict& verdict) {
  for (const Step& back : change.plan.rollback) (void)RunStep(back, change.progress);
  const std::string why = RolledBackWith(verdict, change.plan.replaces);
  if (!change.plan.rollback_log.empty()) Log(change.plan.rollback_log + ": " + why);
  const std::int64_t gap = !change.plan.replaces        ? -1
                           : change.progress.stopped_at ? Elapsed(clock_, *change.progress.stopped_at)
                                                        : 0;
  for (auto m : change.members) {
    // A service that failed itself after it was prepared (a new one that did not stay up) keeps its reason.
    ServiceResult r = results_[m];
    if (!FailsStack(r.outcome)) r = {services_[m].name, ServiceOutcome::kRolledBack, why, 0, gap};
    Finish(m, std::move(r), change.start);
  }
}

}  // namespace podcd::reconcile::detail
