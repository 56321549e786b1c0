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

enum class GateKind { kHealth, kSettle, kExitZero };

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
  ServiceResult Create(const ServiceJob& s);
  ServiceResult Recreate(const ServiceJob& s);
  // An owner whose namespaces other services join, replaced with those joiners as one group.
  std::vector<ServiceResult> ReplaceGroup(const ServiceJob& owner,
                                          const std::vector<const ServiceJob*>& joiners);
  void RunGroup(size_t owner, const std::vector<size_t>& joiners);
  void Finish(size_t index, ServiceResult out, TimePoint start);
  void Cleanup(const std::string& id, const ServiceJob& s);
  // The old containers of `s`: stopped with its grace period, or started again (rollback).
  void StopOld(const ServiceJob& s);
  void StartOld(const ServiceJob& s);

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

std::string JoinLines(const std::string& text, size_t max_lines) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() > max_lines) lines.erase(lines.begin(), lines.end() - static_cast<long>(max_lines));
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

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
    Readiness need = dep.condition == "service_started" ? Readiness::kStarted : Readiness::kReady;
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
  for (const auto& other : services_) {
    for (const auto& dep : other.depends_on) {
      if (dep.service == s.name && dep.condition == "service_completed_successfully")
        return GateKind::kExitZero;
    }
  }
  return s.has_healthcheck ? GateKind::kHealth : GateKind::kSettle;
}

Expected<void> StackRun::Gate(const ServiceJob& s, const std::string& id) {
  // The slots bound concurrent Podman operations, not waiting: a service that only watches
  // its new container lets the next one be created, or a stack of N services would take
  // N / max_parallel settle times.
  ReleaseSlot();
  ScopeExit reacquire([this] { AcquireSlot(); });
  const auto start = clock_.Now();
  const auto deadline = start + gate_.timeout;
  auto first = rt_.Inspect(id);
  if (!first) return std::unexpected(first.error());
  const std::int64_t restarts = first->restart_count;
  const GateKind kind = GateFor(s);
  Ms interval = kind == GateKind::kHealth ? std::clamp(s.health_interval, Ms(100), Ms(5000)) : gate_.poll;
  if (kind == GateKind::kHealth && s.health_interval.count() == 0) interval = Ms(1000);
  int healthy = 0;
  int failed_in_a_row = 0;
  for (;;) {
    if (gate_.stopping && gate_.stopping()) return Fail(ErrorCode::kUnavailable, "podcd is stopping");
    auto st = rt_.Inspect(id);
    if (!st) return std::unexpected(st.error());
    if (kind == GateKind::kExitZero) {
      if (!st->running && st->status == "exited") {
        if (st->exit_code == 0) return {};
        return Fail(ErrorCode::kInternal, "exited with code " + std::to_string(st->exit_code));
      }
    } else {
      if (!st->running) {
        return Fail(ErrorCode::kInternal,
                    "container " + st->status +
                        (st->status == "exited" ? " with code " + std::to_string(st->exit_code) : ""));
      }
      if (st->restart_count != restarts) return Fail(ErrorCode::kInternal, "container restarted");
      if (kind == GateKind::kSettle) {
        if (clock_.Now() - start >= gate_.settle) return {};
      } else {
        auto h = rt_.Healthcheck(id);
        if (!h) return std::unexpected(h.error());
        if (h->status == "healthy") {
          failed_in_a_row = 0;
          if (++healthy >= gate_.healthy_count) return {};
        } else {
          healthy = 0;
          const bool starting = clock_.Now() - start < s.health_start_period;
          if (h->status == "unhealthy" && !starting && ++failed_in_a_row >= std::max(1, s.health_retries)) {
            return Fail(ErrorCode::kInternal, "healthcheck unhealthy (" + std::to_string(failed_in_a_row) +
                                                  " checks in a row)" +
                                                  (h->output.empty() ? "" : ": " + JoinLines(h->output, 3)));
          }
        }
      }
    }
    if (clock_.Now() >= deadline) {
      return Fail(ErrorCode::kTimeout,
                  std::string(kind == GateKind::kExitZero ? "did not exit" : "not healthy") + " within " +
                      std::to_string(gate_.timeout.count() / 1000) + " s");
    }
    clock_.Sleep(kind == GateKind::kSettle ? std::min(interval, gate_.settle) : interval);
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

ServiceResult StackRun::Create(const ServiceJob& s) {
  ServiceResult r{s.name, "created", "", 0, -1};
  auto id = Write(rt_.Create(s.spec));
  if (!id) return {s.name, "failed", "create: " + id.error().What(), 0, -1};
  if (auto st = Write(rt_.Start(*id)); !st) {
    std::string why = "start: " + st.error().What() + LastLogs(*id);
    Cleanup(*id, s);
    return {s.name, "failed", why, 0, -1};
  }
  SetReadiness(s.name, Readiness::kStarted);
  if (GateFor(s) == GateKind::kSettle && !HasDependents(s)) {
    // A new service with nothing to roll back to and nobody waiting on it: no settle wait
    // (compose does not wait either). Run() checks once, at the end, that it still runs.
    std::lock_guard lock(ready_mutex_);
    unsettled_.emplace_back(s.name, *id);
    return r;
  }
  if (auto g = Gate(s, *id); !g) {
    std::string why = "gate: " + g.error().What() + LastLogs(*id);
    Cleanup(*id, s);
    return {s.name, "failed", why, 0, -1};
  }
  return r;
}

bool StackRun::HasDependents(const ServiceJob& s) const {
  for (const auto& other : services_) {
    for (const auto& dep : other.depends_on) {
      if (dep.service == s.name) return true;
    }
  }
  return false;
}

ServiceResult StackRun::Recreate(const ServiceJob& s) {
  podman::ContainerSpec spec = s.spec;
  const std::string final_name = spec.name;
  spec.name = final_name + std::string(kTemporarySuffix);
  // Zero downtime when nothing forces the old container to go first: no host port to free,
  // no namespace shared with another container.
  const bool overlap = !s.publishes_host_ports && !s.shares_namespace;
  auto id = Write(rt_.Create(spec));
  if (!id) return {s.name, "failed", "create: " + id.error().What() + " (old container kept)", 0, -1};

  std::optional<TimePoint> stopped_at;
  auto restore_old = [&](const std::string& why) -> ServiceResult {
    Cleanup(*id, s);
    std::int64_t gap = 0;
    if (stopped_at) {
      StartOld(s);
      gap = Elapsed(clock_, *stopped_at);
    }
    Log(s.name + ": rolled back to the old container: " + why);
    return {s.name, "rolled-back", why, 0, gap};
  };
  auto stop_old = [&]() {
    if (overlap) {
      // Off the networks first: a stopped container keeps its DNS names until Podman's
      // cleanup runs, so clients would still be sent to it for a moment and be refused.
      for (const auto& old : s.old_containers) {
        for (const auto& net : s.spec.networks) {
          if (auto r = Write(rt_.Disconnect(old, net.name)); !r) {
            Log("warning: disconnect " + old.substr(0, 12) + " from " + net.name + ": " + r.error().What());
          }
        }
      }
    }
    stopped_at = clock_.Now();
    StopOld(s);
  };

  if (!overlap) stop_old();
  if (auto st = Write(rt_.Start(*id)); !st) return restore_old("start: " + st.error().What() + LastLogs(*id));
  std::int64_t gap = stopped_at ? Elapsed(clock_, *stopped_at) : 0;
  SetReadiness(s.name, Readiness::kStarted);
  if (auto g = Gate(s, *id); !g) return restore_old("gate: " + g.error().What() + LastLogs(*id));
  if (overlap) stop_old();
  for (const auto& old : s.old_containers) {
    if (auto r = Write(rt_.Remove(old)); !r) {
      return restore_old("remove old container: " + r.error().What());
    }
  }
  if (auto r = Write(rt_.Rename(*id, final_name)); !r) {
    // The new container runs and serves; only its name is off. The next reconcile finishes it.
    Log("warning: rename to " + final_name + ": " + r.error().What());
  }
  return {s.name, "recreated", "", 0, gap};
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

std::vector<ServiceResult> StackRun::ReplaceGroup(const ServiceJob& owner,
                                                  const std::vector<const ServiceJob*>& joiners) {
  // The old joiners live in the old owner's namespaces, and Podman removes no container that
  // others depend on: so the group stops together (joiners first), the new owner starts and
  // passes its gate, then each new joiner joins it (by id: the owner's final name is still the
  // old one's) and passes its gate; only then do the old ones go. Any failure puts the old
  // group back: the old owner starts first, then its joiners join it again.
  std::vector<ServiceResult> out;
  auto all = [&](const std::string& outcome, const std::string& why, std::int64_t gap) {
    out.clear();
    out.push_back({owner.name, outcome, why, 0, gap});
    for (const auto* j : joiners) out.push_back({j->name, outcome, why, 0, gap});
    return out;
  };
  podman::ContainerSpec spec = owner.spec;
  spec.name = owner.spec.name + std::string(kTemporarySuffix);
  auto id = Write(rt_.Create(spec));
  if (!id)
    return all("failed", "create " + owner.name + ": " + id.error().What() + " (old containers kept)", -1);
  std::vector<std::pair<const ServiceJob*, std::string>> new_joiners;

  const TimePoint stopped_at = clock_.Now();
  for (const auto* j : joiners) StopOld(*j);
  StopOld(owner);
  auto restore = [&](const std::string& why) {
    for (auto it = new_joiners.rbegin(); it != new_joiners.rend(); ++it) Cleanup(it->second, *it->first);
    Cleanup(*id, owner);
    StartOld(owner);
    for (const auto* j : joiners) StartOld(*j);
    Log(owner.name + " and the services in its namespaces: rolled back to the old containers: " + why);
    return all("rolled-back", why, Elapsed(clock_, stopped_at));
  };
  if (auto st = Write(rt_.Start(*id)); !st)
    return restore(owner.name + " start: " + st.error().What() + LastLogs(*id));
  if (auto g = Gate(owner, *id); !g)
    return restore(owner.name + " gate: " + g.error().What() + LastLogs(*id));
  const std::string by_name = "container:" + owner.spec.name;
  for (const auto* j : joiners) {
    podman::ContainerSpec js = j->spec;
    js.name = j->spec.name + std::string(kTemporarySuffix);
    for (std::string* mode : {&js.network_mode, &js.pid_mode, &js.ipc_mode}) {
      if (*mode == by_name) *mode = "container:" + *id;
    }
    auto jid = Write(rt_.Create(js));
    if (!jid) return restore(j->name + " create: " + jid.error().What());
    new_joiners.emplace_back(j, *jid);
    if (auto st = Write(rt_.Start(*jid)); !st)
      return restore(j->name + " start: " + st.error().What() + LastLogs(*jid));
    if (auto g = Gate(*j, *jid); !g) return restore(j->name + " gate: " + g.error().What() + LastLogs(*jid));
  }
  const std::int64_t gap = Elapsed(clock_, stopped_at);
  for (const auto* j : joiners) {
    for (const auto& old : j->old_containers) {
      if (auto r = Write(rt_.Remove(old)); !r) return restore("remove old container: " + r.error().What());
    }
  }
  for (const auto& old : owner.old_containers) {
    if (auto r = Write(rt_.Remove(old)); !r) return restore("remove old container: " + r.error().What());
  }
  if (auto r = Write(rt_.Rename(*id, owner.spec.name)); !r)
    Log("warning: rename to " + owner.spec.name + ": " + r.error().What());
  for (const auto& [j, jid] : new_joiners) {
    if (auto r = Write(rt_.Rename(jid, j->spec.name)); !r)
      Log("warning: rename to " + j->spec.name + ": " + r.error().What());
  }
  return all("recreated", "", gap);
}

void StackRun::RunGroup(size_t owner, const std::vector<size_t>& joiners) {
  const auto start = clock_.Now();
  const ServiceJob& o = services_[owner];
  std::string why;
  bool ready = WaitForDependencies(o, why);
  for (size_t k = 0; ready && k < joiners.size(); ++k)
    ready = WaitForDependencies(services_[joiners[k]], why, o.name);
  if (!ready) {
    Finish(owner, {o.name, "skipped", why, 0, -1}, start);
    for (auto j : joiners) Finish(j, {services_[j].name, "skipped", why, 0, -1}, start);
    return;
  }
  std::vector<const ServiceJob*> js;
  for (auto j : joiners) js.push_back(&services_[j]);
  AcquireSlot();
  auto results = ReplaceGroup(o, js);
  ReleaseSlot();
  Finish(owner, results[0], start);
  for (size_t k = 0; k < joiners.size(); ++k) Finish(joiners[k], results[k + 1], start);
}

void StackRun::RunService(size_t index) {
  const ServiceJob& s = services_[index];
  const auto start = clock_.Now();
  std::string why;
  if (!WaitForDependencies(s, why)) {
    Finish(index, {s.name, "skipped", why, 0, -1}, start);
    return;
  }
  AcquireSlot();
  ServiceResult r = s.action == core::Action::kCreate ? Create(s) : Recreate(s);
  ReleaseSlot();
  Finish(index, std::move(r), start);
}

void StackRun::Finish(size_t index, ServiceResult result, TimePoint start) {
  const ServiceJob& s = services_[index];
  ServiceResult& out = results_[index];
  out = std::move(result);
  if (out.outcome == "skipped") {
    SetReadiness(s.name, Readiness::kFailed);
    return;
  }
  out.duration_ms = Elapsed(clock_, start);
  bool ok = out.outcome == "created" || out.outcome == "recreated";
  SetReadiness(s.name, ok ? Readiness::kReady : Readiness::kFailed);
  std::string line = s.name + ": " + out.outcome + " in " + std::to_string(out.duration_ms) + " ms";
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
    result.outcome = "failed";
    Log("stack " + job_.name + " failed before any change: " + result.reason);
    return finish(false);
  }
  bool any_work = std::any_of(services_.begin(), services_.end(), [](const auto& s) {
    return IsWork(s.action) || s.action == core::Action::kRemove;
  });
  if (!any_work) {
    result.outcome = "unchanged";
    for (const auto& s : services_) result.services.push_back({s.name, "unchanged", "", 0, -1});
    return finish(true);
  }
  if (!EnsureNetworksAndVolumes(result)) {
    result.outcome = "failed";
    Log("stack " + job_.name + " failed before any change: " + result.reason);
    return finish(false);
  }
  // 2. Each service in its own task; a dependent waits for what its depends_on condition
  //    needs (started, healthy, or exited 0); unrelated services proceed in parallel.
  results_.assign(services_.size(), ServiceResult{});
  {
    std::lock_guard lock(ready_mutex_);
    for (const auto& s : services_) {
      if (s.action == core::Action::kRemove) continue;
      readiness_[s.name] = IsWork(s.action) ? Readiness::kPending : Readiness::kReady;
    }
  }
  // An owner being replaced takes the services that join its namespaces along (ReplaceGroup).
  std::map<size_t, std::vector<size_t>> groups;
  std::set<size_t> in_group;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (services_[i].action != core::Action::kRecreate) continue;
    for (size_t j = 0; j < services_.size(); ++j) {
      const auto& joins = services_[j].joins;
      if (j == i || !IsWork(services_[j].action) || in_group.contains(j) || groups.contains(j)) continue;
      if (std::find(joins.begin(), joins.end(), services_[i].name) == joins.end()) continue;
      groups[i].push_back(j);
      in_group.insert(j);
    }
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
      results_[i] = {s.name, "unchanged", "", 0, -1};
    }
  }
  for (auto& t : tasks) t.join();
  for (const auto& [name, id] : unsettled_) {
    auto st = rt_.Inspect(id);
    if (st && st->running) continue;
    for (auto& r : results_) {
      if (r.name != name) continue;
      r.outcome = "failed";
      r.reason = st ? "container " + st->status +
                          (st->status == "exited" ? " with code " + std::to_string(st->exit_code) : "")
                    : st.error().What();
      r.reason += LastLogs(id);
      Log(name + ": failed after start: " + r.reason);
    }
  }
  bool failed = false;
  for (const auto& r : results_) {
    if (r.outcome == "failed" || r.outcome == "rolled-back" || r.outcome == "skipped") {
      failed = true;
      if (result.reason.empty()) result.reason = r.name + " " + r.outcome + ": " + r.reason;
    }
  }
  // 3. Services removed from the compose file go only when everything else succeeded. All
  // stop first; a container whose namespaces another removed one joined (a VPN sidecar) can
  // only go after it, so what fails to go is tried again once the rest is gone.
  std::vector<std::pair<size_t, std::string>> removed, later;
  for (size_t i = 0; i < services_.size(); ++i) {
    const auto& s = services_[i];
    if (s.action != core::Action::kRemove) continue;
    if (failed) {
      results_[i] = {s.name, "kept", "not removed because the deployment failed", 0, -1};
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
    results_[i] = {s.name, "removed", "service removed from the compose file", 0, -1};
    Log(s.name + ": removed (no longer in the compose file)");
  }
  for (auto& r : results_) {
    if (!r.name.empty()) result.services.push_back(std::move(r));
  }
  result.outcome = failed ? "failed" : "updated";
  return finish(!failed);
}

}  // namespace

bool IsTemporaryName(std::string_view name) { return name.ends_with(kTemporarySuffix); }

std::string FinalName(std::string_view temporary_name) {
  if (!IsTemporaryName(temporary_name)) return std::string(temporary_name);
  return std::string(temporary_name.substr(0, temporary_name.size() - kTemporarySuffix.size()));
}

StackResult ApplyStack(const StackJob& job, Runtime& runtime, Clock& clock, const GateOptions& gate,
                       const LogFn& log) {
  StackRun run(job, runtime, clock, gate, log);
  return run.Run();
}

StackResult RemoveStack(const core::StackPlan& plan, Runtime& runtime, const LogFn& log) {
  StackResult result;
  result.name = plan.name;
  result.outcome = "removed";
  for (const auto& s : plan.services) {
    for (const auto& id : s.containers) {
      (void)runtime.Stop(id, std::chrono::seconds(10));
      ++result.write_calls;
    }
  }
  // A container whose namespaces others joined can only go after them: what fails is tried
  // again once the rest is gone.
  std::vector<std::pair<const core::ServicePlan*, std::string>> later;
  for (const auto& s : plan.services) {
    for (const auto& id : s.containers) {
      ++result.write_calls;
      if (!runtime.Remove(id)) later.emplace_back(&s, id);
    }
  }
  for (const auto& [s, id] : later) {
    ++result.write_calls;
    if (auto r = runtime.Remove(id); !r) {
      result.ok = false;
      result.reason = "remove " + s->name + ": " + r.error().What();
    }
  }
  for (const auto& s : plan.services)
    result.services.push_back({s.name, "removed", "stack removed from the repository", 0, -1});
  for (const auto& id : plan.leftovers) {
    (void)runtime.Remove(id);
    ++result.write_calls;
  }
  if (auto nets = runtime.StackNetworks(plan.name)) {
    for (const auto& n : *nets) {
      if (auto r = runtime.RemoveNetwork(n); r) {
        ++result.write_calls;
        log("removed network " + n);
      } else {
        log("warning: network " + n + " kept: " + r.error().What());
      }
    }
  }
  if (auto vols = runtime.StackVolumes(plan.name); vols && !vols->empty()) {
    std::string names;
    for (const auto& v : *vols) names += (names.empty() ? "" : ", ") + v;
    log("stack " + plan.name + " removed; its volumes are kept: " + names);
  } else {
    log("stack " + plan.name + " removed");
  }
  if (!result.ok) result.outcome = "failed";
  return result;
}

std::vector<std::string> RecoverTemporaries(const std::vector<core::ActualContainer>& actual,
                                            Runtime& runtime, std::string_view own_container) {
  std::vector<std::string> done;
  for (const auto& t : actual) {
    if (!t.temporary) continue;
    if (!own_container.empty() && !t.id.empty() &&
        (t.id.starts_with(own_container) || own_container.starts_with(t.id))) {
      done.push_back("left alone " + t.name + ": this podcd runs in it");
      continue;
    }
    std::vector<const core::ActualContainer*> siblings;
    for (const auto& c : actual) {
      if (!c.temporary && c.stack == t.stack && c.service == t.service) siblings.push_back(&c);
    }
    if (siblings.empty() && t.running) {
      // Interrupted after the old container was removed: the new one is the service now.
      if (runtime.Rename(t.id, FinalName(t.name))) {
        done.push_back("finished " + t.name + " as " + FinalName(t.name));
        continue;
      }
    }
    (void)runtime.Stop(t.id, std::chrono::seconds(5));
    if (auto r = runtime.Remove(t.id); r)
      done.push_back("removed leftover " + t.name);
    else
      done.push_back("could not remove leftover " + t.name + ": " + r.error().What());
    // Interrupted between stopping the old container and finishing: bring the old one back.
    for (const auto* old : siblings) {
      if (!old->running && runtime.Start(old->id)) done.push_back("restarted " + old->name);
    }
  }
  return done;
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
