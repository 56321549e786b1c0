#include "reconcile/apply.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "reconcile/containerfile.hpp"
#include "reconcile/gate.hpp"
#include "reconcile/replace_plan.hpp"
#include "util/scope_exit.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

using Ms = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

std::int64_t Elapsed(Clock& clock, TimePoint since) {
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
  bool PullImages(StackResult& result);
  // What PullImages did for one service's image: all there is to do, or the image's id is
  // ready to compare with what runs (redeploy-and-update), or failed (result.reason set).
  enum class ImageStep { kDone, kCompare, kFailed };
  ImageStep BuiltImage(const ServiceJob& s, std::string& id, StackResult& result);
  ImageStep PulledImage(const ServiceJob& s, std::string& id, StackResult& result);
  Expected<bool> ImageExistsOnce(const std::string& image);
  bool PullOnce(const std::string& image, podman::PullPolicy policy, const std::string& what, std::string& id,
                StackResult& result);
  bool BaseImagesKey(const ServiceJob& s, podman::PullPolicy policy, std::string& key, StackResult& result);
  bool EnsureNetworksAndVolumes(StackResult& result);
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
  };
  std::vector<ServiceResult> Execute(const ReplacementPlan& plan, const std::vector<const ServiceJob*>& jobs);
  Expected<void> RunStep(const Step& step, Progress& progress);
  Expected<std::string> CreateNew(const Step& step, const Progress& progress);
  // An owner whose namespaces other services join, replaced with those joiners as one group.
  void RunGroup(size_t owner, const std::vector<size_t>& joiners);
  void Finish(size_t index, ServiceResult out, TimePoint start);
  void Cleanup(const std::string& id, const ServiceJob& s);
  // The old containers of `s`: stopped with its grace period, or started again (rollback).
  void StopOld(const ServiceJob& s);
  void StartOld(const ServiceJob& s);
  // Takes the old containers of `s` off its networks.
  void Disconnect(const ServiceJob& s);

  const StackJob& job_;
  Runtime& rt_;
  Clock& clock_;
  const GateOptions& gate_;
  const LogFn& log_;
  std::vector<ServiceJob> services_;
  std::vector<ServiceResult> results_;
  // Services often share an image: each image is checked or pulled once per stack.
  std::set<std::string> present_;
  std::map<std::string, std::string> pulled_;  // "image|policy" -> id
  std::mutex log_mutex_;
  std::atomic<int> write_calls_{0};

  std::mutex ready_mutex_;
  std::condition_variable ready_cv_;
  std::map<std::string, Readiness> readiness_;
  std::vector<std::pair<std::string, std::string>>
      unsettled_;  // created without a settle wait: (service, id)

  std::mutex slots_mutex_;
  std::condition_variable slots_cv_;
  std::size_t busy_ = 0;
};

bool IsWork(core::Action a) { return a == core::Action::kCreate || a == core::Action::kRecreate; }

Expected<bool> StackRun::ImageExistsOnce(const std::string& image) {
  if (present_.contains(image)) return true;
  auto exists = rt_.ImageExists(image);
  if (exists && *exists) present_.insert(image);
  return exists;
}

bool StackRun::PullOnce(const std::string& image, podman::PullPolicy policy, const std::string& what,
                        std::string& id, StackResult& result) {
  const std::string key = image + "|" + std::string(podman::ToString(policy));
  if (auto cached = pulled_.find(key); cached != pulled_.end()) {
    id = cached->second;
    return true;
  }
  auto start = clock_.Now();
  auto fresh = Write(rt_.Pull(image, policy));
  if (!fresh) {
    result.reason = "pull of " + image + " for " + what + " failed: " + fresh.error().What();
    return false;
  }
  id = *fresh;
  pulled_.emplace(key, id);
  present_.insert(image);
  Log("pulled " + image + " (" + id.substr(0, 12) + ") for " + what + " in " +
      std::to_string(Elapsed(clock_, start)) + " ms");
  return true;
}

// The images a built service builds from, pulled, as one key: "image=id" lines, hashed.
bool StackRun::BaseImagesKey(const ServiceJob& s, podman::PullPolicy policy, std::string& key,
                             StackResult& result) {
  const auto file = std::filesystem::path(s.build->context_dir) /
                    (s.build->dockerfile.empty() ? "Containerfile" : s.build->dockerfile);
  auto text = ReadFile(file, 1u << 20);
  if (!text) {
    result.reason = "service " + s.name + ": " + text.error().What();
    return false;
  }
  std::string lines;
  for (const auto& base : BaseImages(*text, s.build->args)) {
    std::string id;
    // Present and not to be updated, or a localhost/ image (built or imported here, no
    // registry serves it): its local id, no pull.
    if (policy == podman::PullPolicy::kMissing || base.starts_with("localhost/")) {
      if (auto info = rt_.InspectImage(base)) id = info->id;
    }
    if (id.empty() && !PullOnce(base, policy, "the build of " + s.name, id, result)) return false;
    lines += base + "=" + id + "\n";
  }
  key = Sha256Hex(lines).substr(0, 16);
  return true;
}

// Built from the repository: the tag names the content, so a present tag is this build. The
// ids of the images it was built from are a label of the image: redeploy-and-update pulls
// those images again and builds it again when one of them moved.
StackRun::ImageStep StackRun::BuiltImage(const ServiceJob& s, std::string& id, StackResult& result) {
  const std::string& image = s.spec.image;
  auto start = clock_.Now();
  // The tag as it is here: whether it exists, and (when updating) its id and labels, in one call.
  std::optional<podman::ImageInfo> current;
  if (job_.update_images) {
    auto info = rt_.InspectImage(image);
    if (info) {
      current = std::move(*info);
    } else if (info.error().code != ErrorCode::kNotFound) {
      result.reason = "service " + s.name + ": " + info.error().What();
      return ImageStep::kFailed;
    }
  } else {
    auto exists = ImageExistsOnce(image);
    if (!exists) {
      result.reason = "service " + s.name + ": " + exists.error().What();
      return ImageStep::kFailed;
    }
    if (*exists) return ImageStep::kDone;
  }
  std::string key;
  if (!BaseImagesKey(s, job_.update_images ? podman::PullPolicy::kAlways : podman::PullPolicy::kMissing, key,
                     result))
    return ImageStep::kFailed;
  bool build = !current;
  if (current) {
    id = current->id;
    auto label = current->labels.find(std::string(kLabelBaseImages));
    build = label == current->labels.end() || label->second != key;
    if (build) Log("an image that " + image + " is built from moved: building it again");
  }
  if (build) {
    podman::BuildRequest request = *s.build;
    request.labels[std::string(kLabelBaseImages)] = key;
    auto built = Write(rt_.Build(request));
    if (!built) {
      result.reason = "build of " + image + " for service " + s.name + " failed: " + built.error().What();
      return ImageStep::kFailed;
    }
    id = *built;
    present_.insert(image);
    Log("built " + image + " for " + s.name + " in " + std::to_string(Elapsed(clock_, start)) + " ms");
  }
  return job_.update_images ? ImageStep::kCompare : ImageStep::kDone;
}

StackRun::ImageStep StackRun::PulledImage(const ServiceJob& s, std::string& id, StackResult& result) {
  const std::string& image = s.spec.image;
  if (s.pull_never) {
    auto exists = ImageExistsOnce(image);
    if (!exists || !*exists) {
      result.reason = "service " + s.name + ": image " + image + " is not present and pull_policy is never";
      return ImageStep::kFailed;
    }
    return ImageStep::kDone;
  }
  // Podman names images it built or imported localhost/...: no registry serves them, so
  // redeploy-and-update reads their local id instead of pulling (which would fail).
  const bool local_only = image.starts_with("localhost/");
  podman::PullPolicy policy = job_.update_images && !local_only ? podman::PullPolicy::kAlways : s.pull;
  if (policy == podman::PullPolicy::kMissing && !job_.update_images) {
    auto exists = ImageExistsOnce(image);
    if (!exists) {
      result.reason = "service " + s.name + ": " + exists.error().What();
      return ImageStep::kFailed;
    }
    if (*exists) return ImageStep::kDone;
  }
  if (!PullOnce(image, policy, s.name, id, result)) return ImageStep::kFailed;
  return ImageStep::kCompare;
}

bool StackRun::PullImages(StackResult& result) {
  for (auto& s : services_) {
    if (!IsWork(s.action) && !job_.update_images) continue;
    if (s.action == core::Action::kRemove) continue;
    if (s.spec.image.empty()) {
      result.reason = "service " + s.name + " has no image";
      return false;
    }
    std::string id;  // the image's id now
    const ImageStep step = s.build ? BuiltImage(s, id, result) : PulledImage(s, id, result);
    if (step == ImageStep::kFailed) return false;
    if (step == ImageStep::kDone) continue;
    if (job_.update_images && s.action == core::Action::kUnchanged && !s.old_containers.empty()) {
      auto st = rt_.Inspect(s.old_containers.front());
      if (st && st->image_id != id) {
        s.action = core::Action::kRecreate;
        s.reasons.push_back("image " + s.spec.image + " updated");
      }
    }
  }
  return true;
}

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
    auto created = rt_.EnsureNetwork(n);
    if (!created) {
      result.reason = "network " + n.name + ": " + created.error().What();
      return false;
    }
    if (*created) {
      ++write_calls_;
      Log("created network " + n.name);
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

void StackRun::SetReadiness(const std::string& service, Readiness r) {
  {
    std::lock_guard lock(ready_mutex_);
    readiness_[service] = r;
  }
  ready_cv_.notify_all();
}

bool StackRun::WaitForDependencies(const ServiceJob& s, std::string& why, const std::string& except) {
  std::unique_lock lock(ready_mutex_);
  for (const auto& dep : s.depends_on) {
    if (dep.service == except) continue;
    if (!readiness_.contains(dep.service)) continue;  // not part of this stack's job
    Readiness need = dep.condition == DependencyCondition::kStarted ? Readiness::kStarted : Readiness::kReady;
    ready_cv_.wait(lock, [&] {
      auto r = readiness_[dep.service];
      return r == Readiness::kFailed || static_cast<int>(r) >= static_cast<int>(need);
    });
    if (readiness_[dep.service] == Readiness::kFailed) {
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

std::string StackRun::LastLogs(const std::string& id) {
  auto logs = rt_.Logs(id, 10);
  if (!logs || logs->empty()) return "";
  return "; last log lines: " + JoinLines(*logs, 10);
}

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

bool StackRun::HasDependents(const ServiceJob& s) const {
  for (const auto& other : services_) {
    for (const auto& dep : other.depends_on) {
      if (dep.service == s.name) return true;
    }
  }
  return false;
}

ReplaceTarget StackRun::Target(const ServiceJob& s) {
  return {s.name, s.publishes_host_ports, s.shares_namespace};
}

// `net` with `name` among its aliases: a renamed container keeps answering its old name in
// Podman's DNS, never the new one, so a replacement's new container answers its final name so.
podman::NetworkAttachment WithName(podman::NetworkAttachment net, const std::string& name) {
  if (std::find(net.aliases.begin(), net.aliases.end(), name) == net.aliases.end())
    net.aliases.push_back(name);
  return net;
}

// The new container of a plan's member: its spec, under the temporary name (unlisted: without
// its aliases), joining the new owner's namespaces by id where it joined the owner by name.
Expected<std::string> StackRun::CreateNew(const Step& step, const Progress& progress) {
  const ServiceJob& s = *progress.jobs[step.member];
  podman::ContainerSpec spec = s.spec;
  if (step.temporary) {
    spec.name = core::TemporaryName(s.spec.name);
    for (auto& net : spec.networks)
      net = step.unlisted ? podman::NetworkAttachment{net.name, {}} : WithName(net, s.spec.name);
  }
  if (step.join_owner) {
    const std::string by_name = "container:" + progress.jobs[0]->spec.name;
    for (std::string* mode : {&spec.network_mode, &spec.pid_mode, &spec.ipc_mode}) {
      if (*mode == by_name) *mode = "container:" + progress.new_ids[0];
    }
  }
  return Write(rt_.Create(spec));
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
      std::lock_guard lock(ready_mutex_);
      unsettled_.emplace_back(s.name, id);
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
        if (auto r = Write(rt_.Remove(old)); !r) return r;
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

// Runs a plan's steps through the runtime; a failing step fails the change (kFail) or puts the
// old containers back first (kRollback). One result per member, all alike.
std::vector<ServiceResult> StackRun::Execute(const ReplacementPlan& plan,
                                             const std::vector<const ServiceJob*>& jobs) {
  Progress progress;
  progress.jobs = jobs;
  progress.new_ids.assign(jobs.size(), "");
  progress.stopped.assign(jobs.size(), false);
  auto all = [&](ServiceOutcome outcome, const std::string& why, std::int64_t gap) {
    std::vector<ServiceResult> out;
    for (const auto* j : jobs) out.push_back({j->name, outcome, why, 0, gap});
    return out;
  };
  for (const Step& step : plan.steps) {
    auto r = RunStep(step, progress);
    if (r || step.on_error == OnError::kWarn) continue;
    const std::string& id = progress.new_ids[step.member];
    std::string why = step.what + ": " + r.error().What() + (step.with_logs ? LastLogs(id) : "") + step.kept;
    if (step.on_error == OnError::kFail) return all(ServiceOutcome::kFailed, why, -1);
    for (const Step& back : plan.rollback) (void)RunStep(back, progress);
    if (!plan.replaces) return all(ServiceOutcome::kFailed, why, -1);
    const std::int64_t gap = progress.stopped_at ? Elapsed(clock_, *progress.stopped_at) : 0;
    if (!plan.rollback_log.empty()) Log(plan.rollback_log + ": " + why);
    return all(ServiceOutcome::kRolledBack, why, gap);
  }
  return all(plan.replaces ? ServiceOutcome::kRecreated : ServiceOutcome::kCreated, "",
             plan.replaces ? progress.gap : -1);
}

void StackRun::AcquireSlot() {
  std::unique_lock lock(slots_mutex_);
  slots_cv_.wait(lock, [&] { return busy_ < std::max<std::size_t>(1, gate_.max_parallel); });
  ++busy_;
}

void StackRun::ReleaseSlot() {
  {
    std::lock_guard lock(slots_mutex_);
    --busy_;
  }
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
  std::vector<const ServiceJob*> jobs{&o};
  std::vector<ReplaceTarget> targets;
  for (auto j : joiners) {
    jobs.push_back(&services_[j]);
    targets.push_back(Target(services_[j]));
  }
  AcquireSlot();
  auto results = Execute(ReplacePlan(Target(o), targets), jobs);
  ReleaseSlot();
  Finish(owner, results[0], start);
  for (size_t k = 0; k < joiners.size(); ++k) Finish(joiners[k], results[k + 1], start);
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
  AcquireSlot();
  ServiceResult r = Execute(plan, {&s}).front();
  ReleaseSlot();
  Finish(index, std::move(r), start);
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
  if (!PullImages(result)) {
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
  // 2. Each service in its own task; a dependent waits for what its depends_on condition
  //    needs (started, healthy, or exited 0); unrelated services proceed in parallel.
  RunServices();
  CheckUnsettled();
  bool failed = false;
  for (const auto& r : results_) {
    if (FailsStack(r.outcome)) {
      failed = true;
      if (result.reason.empty())
        result.reason = r.name + " " + std::string(ToString(r.outcome)) + ": " + r.reason;
    }
  }
  // 3. Services removed from the compose file go only when everything else succeeded.
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
    std::lock_guard lock(ready_mutex_);
    for (const auto& s : services_) {
      if (s.action == core::Action::kRemove) continue;
      readiness_[s.name] = IsWork(s.action) ? Readiness::kPending : Readiness::kReady;
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
  for (const auto& [name, id] : unsettled_) {
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
    results_[i] = {s.name, ServiceOutcome::kRemoved, "service removed from the compose file", 0, -1};
    Log(s.name + ": removed (no longer in the compose file)");
  }
}

}  // namespace

StackResult ApplyStack(const StackJob& job, Runtime& runtime, Clock& clock, const GateOptions& gate,
                       const LogFn& log) {
  StackRun run(job, runtime, clock, gate, log);
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
