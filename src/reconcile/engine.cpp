#include "reconcile/engine.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>

#include "config/config.hpp"
#include "git/materialize.hpp"
#include "reconcile/deployed_fields.hpp"
#include "reconcile/force.hpp"
#include "reconcile/hooks.hpp"
#include "reconcile/image_cleanup.hpp"
#include "reconcile/schedule.hpp"
#include "reconcile/select.hpp"
#include "reconcile/self_update.hpp"
#include "reconcile/spec_map.hpp"
#include "reconcile/sync_plan.hpp"
#include "reconcile/verify.hpp"
#include "util/guarded.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"
#include "worker/sync.hpp"

namespace podcd::reconcile {

GateOptions GateFromConfig(const config::Config& config) {
  GateOptions gate;
  gate.timeout = config.health.timeout;
  gate.settle = config.health.settle;
  gate.healthy_count = static_cast<int>(config.health.healthy_count);
  return gate;
}

std::string StackKey(const core::DesiredStack& d) {
  std::string key;
  for (const auto& s : d.services) key += s.name + "=" + s.fingerprint + ";";
  return key;
}

std::optional<std::chrono::milliseconds> Backoff::Blocked(const std::string& stack, const std::string& key,
                                                          std::chrono::steady_clock::time_point now) {
  auto entries = entries_.Lock();
  auto it = entries->find(stack);
  if (it == entries->end() || it->second.key != key || now >= it->second.retry_at) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.retry_at - now);
}

void Backoff::Failed(const std::string& stack, const std::string& key,
                     std::chrono::steady_clock::time_point now) {
  auto entries = entries_.Lock();
  auto& e = (*entries)[stack];
  e.failures = e.key == key ? e.failures + 1 : 1;
  e.key = key;
  auto delay = kFirst * (1 << std::min(e.failures - 1, 10));
  e.retry_at = now + std::min<std::chrono::milliseconds>(delay, kMax);
  Save(*entries, now);
}

void Backoff::Succeeded(const std::string& stack, std::chrono::steady_clock::time_point now) {
  auto entries = entries_.Lock();
  if (entries->erase(stack) > 0) Save(*entries, now);
}

std::filesystem::path BackoffPath(const std::filesystem::path& state_dir) {
  return state_dir / "backoff.json";
}

namespace {
std::int64_t WallMs(std::chrono::steady_clock::time_point t, std::chrono::steady_clock::time_point now) {
  return state::NowMs() + std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
}
}  // namespace

Backoff::Backoff(std::filesystem::path file, std::chrono::steady_clock::time_point now)
    : file_(std::move(file)) {
  auto doc = json::ReadObjectFile(file_);
  if (!doc) {
    log::Warn("back-off memory unreadable; starting without it", {{"error", doc.error().What()}});
    return;
  }
  if (!*doc) return;
  const std::int64_t wall_now = state::NowMs();
  auto entries = entries_.Lock();
  for (auto it = (*doc)->MemberBegin(); it != (*doc)->MemberEnd(); ++it) {
    if (!it->value.IsObject()) continue;
    Entry e;
    e.key = json::GetStr(it->value, "key");
    e.failures = static_cast<int>(std::clamp<std::int64_t>(json::GetInt(it->value, "failures"), 1, 64));
    e.retry_at = now + std::chrono::milliseconds(json::GetInt(it->value, "retry_at_ms") - wall_now);
    (*entries)[std::string(it->name.GetString(), it->name.GetStringLength())] = std::move(e);
  }
}

void Backoff::Save(const std::map<std::string, Entry>& entries,
                   std::chrono::steady_clock::time_point now) const {
  if (file_.empty()) return;
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  for (const auto& [stack, e] : entries) {
    w.Key(stack.c_str(), static_cast<rapidjson::SizeType>(stack.size()));
    w.StartObject();
    json::Str(w, "key", e.key);
    json::Int(w, "failures", e.failures);
    json::Int(w, "retry_at_ms", WallMs(e.retry_at, now));
    w.EndObject();
  }
  w.EndObject();
  if (auto r = WriteFileAtomic(file_, std::string(buf.GetString(), buf.GetSize()) + "\n"); !r)
    log::Warn("cannot save the back-off memory", {{"error", r.error().What()}});
}

Engine::Engine(std::shared_ptr<const config::Config> config, SyncFn sync, Runtime& runtime, Clock& clock)
    : config_(std::move(config)),
      sync_(std::move(sync)),
      runtime_(runtime),
      clock_(clock),
      backoff_(BackoffPath(config_->state_dir), clock.Now()),
      images_(state::ImageLedgerPath(config_->state_dir)) {}

Engine::SyncFn ChildProcessSync() {
  return [](const config::Config& config) -> Expected<std::string> {
    auto r = worker::SyncInChild(config);
    if (!r) return std::unexpected(r.error());
    return r->commit;
  };
}

Expected<Snapshot> Engine::Observe(bool sync, bool repair) {
  const auto config = Config();
  Snapshot snap;
  if (sync) {
    const auto start = std::chrono::steady_clock::now();
    auto commit = sync_(*config);
    metrics::Observe("podcd_git_sync_seconds", {{"ok", commit ? "true" : "false"}},
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!commit) return std::unexpected(commit.error().WithContext("repository sync"));
    metrics::Set("podcd_last_successful_sync_timestamp_seconds", {},
                 std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    snap.commit = *commit;
  }
  auto controls = state::ReadStackControls(state::StackControlsPath(config->state_dir));
  if (!controls) return std::unexpected(controls.error().WithContext("stack controls"));
  snap.controls = std::move(*controls);
  auto uploads = state::ReadUploads(state::UploadsPath(config->state_dir));
  if (!uploads) return std::unexpected(uploads.error().WithContext("uploaded images"));
  snap.uploads = std::move(*uploads);
  // A pinned stack loads from its commit's files; one that cannot be had is invalid, named.
  std::map<std::string, std::filesystem::path> pinned;
  std::map<std::string, std::string> pin_errors;
  for (const auto& [stack, c] : snap.controls) {
    if (!c.pinned) continue;
    auto tree = MaterializePin(*config, c.pinned->commit);
    if (tree)
      pinned[stack] = *tree;
    else
      pin_errors[stack] = "pinned to " + c.pinned->commit.substr(0, 12) + ": " + tree.error().What();
  }
  auto desired = LoadDesired(*config, pinned, [this] { return runtime_.Runtimes(); });
  if (!desired) return std::unexpected(desired.error());
  snap.desired = std::move(*desired);
  for (auto& d : snap.desired.stacks) {
    auto why = pin_errors.find(d.name);
    if (why == pin_errors.end()) continue;
    d.status = core::StackStatus::kInvalid;
    d.problems = {why->second};
    d.services.clear();
    snap.desired.models.erase(d.name);
  }
  auto actual = runtime_.ListManaged();
  if (!actual) return std::unexpected(actual.error().WithContext("listing containers"));
  if (repair && std::any_of(actual->begin(), actual->end(), [](const auto& c) { return c.temporary; })) {
    snap.recovered = RecoverTemporaries(*actual, runtime_, own_container_);
    actual = runtime_.ListManaged();
    if (!actual) return std::unexpected(actual.error().WithContext("listing containers"));
  }
  snap.actual = std::move(*actual);
  snap.plan = core::Plan(snap.desired.stacks, snap.actual);
  return snap;
}

Expected<std::filesystem::path> MaterializePin(const config::Config& config, const std::string& commit) {
  if (commit.size() != 40 || commit.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "not a full commit id", commit);
  const std::filesystem::path dest = std::filesystem::path(config.state_dir) / "pinned" / commit;
  std::error_code ec;
  if (std::filesystem::is_directory(dest, ec)) return dest;  // written whole or not at all
  if (auto r = git::MaterializeCommit(config.repo.path, commit, dest); !r)
    return std::unexpected(r.error().WithContext("writing out the pinned commit"));
  return dest;
}

void RemoveUnpinnedTrees(const config::Config& config, const state::StackControls& controls) {
  const std::filesystem::path dir = std::filesystem::path(config.state_dir) / "pinned";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  std::set<std::string> kept = PinnedCommitsInUse(config.state_dir);
  for (const auto& [stack, c] : controls) {
    if (c.pinned) kept.insert(c.pinned->commit);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (kept.contains(entry.path().filename().string())) continue;
    std::error_code rm;
    std::filesystem::remove_all(entry.path(), rm);
    if (rm)
      log::Warn("cannot remove an unpinned commit's tree",
                {{"path", entry.path().string()}, {"error", rm.message()}});
  }
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

// A stack to work on: applied (with its job) or pruned (without).
struct Engine::Work {
  const core::StackPlan* plan = nullptr;
  std::optional<StackJob> job;  // none: a stack gone from the repository, to prune
  bool hand_over = false;       // podcd's own stack, whose own service changes
};

// The stacks that failed so far; stacks are applied on several threads.
struct Engine::Tally {
  struct Record {
    bool failed = false;
    std::vector<std::string> failures;
    Claims claims;  // what the run says of the stacks it worked on, checked at its end
  };
  Guarded<Record> record;
  std::atomic<int> writes{0};  // Podman calls that changed something
  void Add(std::string failure) {
    auto r = record.Lock();
    r->failed = true;
    r->failures.push_back(std::move(failure));
  }
  void Claim(const std::string& stack, bool removed) {
    auto r = record.Lock();
    (removed ? r->claims.removed : r->claims.current).insert(stack);
  }
  [[nodiscard]] Claims ClaimsMade() { return record.Lock()->claims; }
  [[nodiscard]] bool Failed() { return record.Lock()->failed; }
  // The failed stacks, sorted, joined with ", ".
  [[nodiscard]] std::string Failures() {
    auto r = record.Lock();
    std::sort(r->failures.begin(), r->failures.end());
    return Join(r->failures, ", ");
  }
};

namespace {
bool Suspended(const Snapshot& snap, const std::string& stack) {
  auto c = snap.controls.find(stack);
  return c != snap.controls.end() && c->second.suspended;
}

state::StackOutcome Outcome(const std::string& stack, StackOutcomeKind kind, std::string reason,
                            std::int64_t duration_ms = 0) {
  return {stack, std::string(ToString(kind)), std::move(reason), duration_ms};
}
}  // namespace

std::map<std::string, std::chrono::milliseconds> Engine::BackingOff(const DesiredState& desired) {
  std::map<std::string, std::chrono::milliseconds> waits;
  for (const auto& d : desired.stacks) {
    if (auto wait = backoff_.Blocked(d.name, StackKey(d), clock_.Now())) waits[d.name] = *wait;
  }
  return waits;
}

void Engine::Report(const Selection& selection, RunContext& ctx, Tally& tally) {
  for (const auto& c : selection.reported) {
    const auto& sp = *c.plan;
    if (c.kind == StackChoice::Kind::kKept) {
      ctx.Log("stack " + sp.name + " is gone from the repository; kept (prune is off)");
      continue;
    }
    if (c.kind == StackChoice::Kind::kSuspended) {
      ctx.Log("stack " + sp.name + " SUSPENDED: " + c.reason + "; left alone (podcd resume " + sp.name + ")");
      ctx.SetStackOutcome(Outcome(sp.name, StackOutcomeKind::kSuspended, c.reason));
      continue;
    }
    const std::string action(core::ToString(sp.action));
    ctx.Log("stack " + sp.name + " " + action + ": " + c.reason);
    ctx.SetStackOutcome({sp.name, action, c.reason, 0});
    tally.Add(sp.name + " " + action);
  }
}

// The stack's hooks (hooks.hpp) with their environment; the previous commit is the one its
// running containers were deployed from.
void Engine::AddHooks(const Snapshot& snap, const std::string& commit, const std::string& deployment,
                      StackJob& job) const {
  const core::Stack& model = snap.desired.models.at(job.name);
  if (model.hooks.empty()) return;
  job.hooks = model.hooks;
  std::string previous;
  for (const auto& c : snap.actual) {
    if (c.stack == job.name && !c.commit.empty() && (previous.empty() || c.running)) previous = c.commit;
  }
  job.hook_env = HookEnvironment(deployment, job.name, commit, previous);
  job.dir = (std::filesystem::path(Config()->repo.path) / model.compose_file).parent_path().string();
}

void Engine::Prepare(const Selection& selection, const Snapshot& snap, bool update_images, RunContext& ctx,
                     Tally& tally, std::vector<Work>& work, std::optional<Work>& self_work) {
  for (const auto& c : selection.run) {
    const auto& sp = *c.plan;
    if (c.kind == StackChoice::Kind::kPrune) {
      work.push_back({&sp, std::nullopt, false});
      continue;
    }
    if (c.kind == StackChoice::Kind::kBackoff) {
      ctx.Log("stack " + sp.name + " backing off: " + c.reason);
      ctx.SetStackOutcome(Outcome(sp.name, StackOutcomeKind::kBackoff, c.reason));
      continue;
    }
    // A pinned stack's containers carry the pinned commit: GET /stacks shows where it stands.
    std::string commit = snap.commit;
    if (auto ctl = snap.controls.find(sp.name); ctl != snap.controls.end() && ctl->second.pinned) {
      const state::Pin& pin = *ctl->second.pinned;
      commit = pin.commit;
      ctx.Log("stack " + sp.name + " PINNED to deployment " + pin.deployment + " (commit " +
              commit.substr(0, 12) + ", by " + pin.by +
              "): deployed from that commit's files, not the branch head");
    }
    auto job =
        BuildStackJob(sp, snap.desired.models.at(sp.name), *snap.desired.Find(sp.name), commit, ctx.Id());
    if (!job) {
      ctx.SetStackOutcome(Outcome(sp.name, StackOutcomeKind::kFailed, job.error().What()));
      ctx.Log("stack " + sp.name + " failed: " + job.error().What());
      tally.Add(sp.name);
      continue;
    }
    job->update_images = update_images;
    AddHooks(snap, commit, ctx.Id(), *job);
    job->uploaded_images = state::UploadedImages(snap.uploads, sp.name);
    if (auto g = snap.desired.bind_guards.find(sp.name); g != snap.desired.bind_guards.end())
      job->bind_guard = g->second;
    for (const auto& r : sp.reasons) ctx.Log("[" + sp.name + "] plan: " + r);
    for (const auto& n : sp.notes) ctx.Log("[" + sp.name + "] note: " + n);
    if (c.kind == StackChoice::Kind::kSkip) {
      ctx.Log("stack " + sp.name + " is podcd's own (self.stack) and " + c.reason +
              ": left alone (start podcd from that stack, e.g. with podman-compose.yml, and it updates "
              "itself)");
      ctx.SetStackOutcome(Outcome(sp.name, StackOutcomeKind::kSkipped, c.reason));
      continue;
    }
    if (c.self)
      self_work = Work{&sp, std::move(*job), c.hand_over};
    else
      work.push_back({&sp, std::move(*job), false});
  }
}

// What the stack now runs, for the next plan's diff (old values beside new ones); a removed
// stack's record goes with it. A failure to write costs only those old values: logged.
void Engine::KeepDeployedFields(const std::string& stack, const Snapshot& snap) const {
  const auto model = snap.desired.models.find(stack);
  if (model == snap.desired.models.end()) {
    RemoveDeployed(config_->state_dir, stack);
    return;
  }
  Deployed d{ShownFields(model->second), ""};
  if (auto ctl = snap.controls.find(stack); ctl != snap.controls.end() && ctl->second.pinned)
    d.pinned_commit = ctl->second.pinned->commit;
  if (auto r = WriteDeployed(config_->state_dir, stack, d); !r)
    log::Warn("cannot record what a stack was deployed with",
              {{"stack", stack}, {"error", r.error().What()}});
}

void Engine::ApplyOne(const Work& w, const Snapshot& snap, const GateOptions& gate, RunContext& ctx,
                      Tally& tally) {
  const std::string& name = w.plan->name;
  auto log = [&ctx, &name](const std::string& l) { ctx.Log("[" + name + "] " + l); };
  if (!w.job || w.plan->NeedsApply()) ctx.StackStarted(name);  // what the plan changes (the forge's pending)
  StackResult result =
      w.job ? ApplyStack(*w.job, runtime_, clock_, gate, log) : RemoveStack(*w.plan, runtime_, log);
  // A pinned stack's outcome names the commit it ran at (an earlier deployment to pin to later
  // is read by that: the record's own commit is the branch head's).
  if (auto ctl = snap.controls.find(name); w.job && ctl != snap.controls.end() && ctl->second.pinned)
    result.reason = "pinned to commit " + ctl->second.pinned->commit +
                    (result.reason.empty() ? "" : "; " + result.reason);
  state::StackOutcome outcome = Outcome(name, result.outcome, result.reason, result.duration_ms);
  if (w.job) {
    RecordBroughtImages(images_, name, result.brought, log);
    if (result.ok && result.outcome == StackOutcomeKind::kUpdated) {
      const auto cleaned = CleanStackImages(runtime_, images_, *w.job, Config()->images.keep_previous,
                                            NamedImages(snap.desired, {&*w.job}), log);
      outcome.images_removed = cleaned.removed;
      outcome.image_bytes_freed = cleaned.bytes_freed;
    }
  }
  outcome.hook = result.hook;
  outcome.hook_exit_code = result.hook_exit_code;
  outcome.hook_output = result.hook_output;
  ctx.SetStackOutcome(std::move(outcome));
  if (result.ok) KeepDeployedFields(name, snap);
  if (w.job) {
    if (result.ok)
      backoff_.Succeeded(name, clock_.Now());
    else if (!ctx.StopRequested())  // rolled back because podcd stops: not the stack's fault
      backoff_.Failed(name, StackKey(*snap.desired.Find(name)), clock_.Now());
  }
  tally.writes += result.write_calls;
  if (!result.ok)
    tally.Add(name);
  else
    tally.Claim(name, !w.job);
}

// Every run ends by checking what it claims against the host: a container that a killed run
// left created (its request reached Podman after this run looked), or that stopped meanwhile,
// fails the run, named, rather than being taken for done. A run that changed nothing checks
// the containers it listed at its start.
void Engine::Verify(const Snapshot& snap, const Selection& selection, const state::Trigger& trigger,
                    RunContext& ctx, Tally& tally) {
  std::set<std::string> chosen;
  for (const auto& c : selection.run) chosen.insert(c.plan->name);
  const std::set<std::string> named(trigger.stacks.begin(), trigger.stacks.end());
  for (const auto& sp : snap.plan.stacks) {
    if (sp.action == core::Action::kUnchanged && !chosen.contains(sp.name) &&
        (named.empty() || named.contains(sp.name)) && !Suspended(snap, sp.name))
      tally.Claim(sp.name, false);
  }
  const bool changed = tally.writes > 0;
  std::optional<std::vector<core::ActualContainer>> listed;
  core::PlanResult after;
  if (changed) {
    auto now = runtime_.ListManaged();
    if (!now) {
      ctx.Log("error: listing containers after the run: " + now.error().What());
      tally.Add("the check after the run");
      return;
    }
    listed = std::move(*now);
    after = core::Plan(snap.desired.stacks, *listed);
  }
  for (const auto& [stack, why] :
       UnmetClaims(changed ? after : snap.plan, changed ? *listed : snap.actual, tally.ClaimsMade())) {
    ctx.Log("[" + stack + "] not in its desired state after the run: " + why);
    ctx.SetStackOutcome(Outcome(stack, StackOutcomeKind::kFailed, "after the run: " + why));
    tally.Add(stack);
  }
}

bool Engine::ApplyScheduled(const std::vector<Work>& work, const Snapshot& snap, const GateOptions& gate,
                            RunContext& ctx, Tally& tally) {
  const StackJob removed;  // a pruned stack creates no network
  std::vector<const StackJob*> jobs;
  jobs.reserve(work.size());
  for (const auto& w : work) jobs.push_back(w.job ? &*w.job : &removed);
  const StackSchedule schedule = ScheduleStacks(jobs);
  std::atomic<bool> stopped{false};
  RunScheduled(schedule, static_cast<std::size_t>(Config()->parallel_stacks), [&](std::size_t position) {
    if (stopped || (ctx.StopRequested() && !stopped.exchange(true))) return;
    ApplyOne(work[schedule.order[position]], snap, gate, ctx, tally);
  });
  return !stopped;
}

Expected<void> Engine::PlanOnly(RunContext& ctx) {
  const auto config = Config();
  auto snap = Observe(true, false);  // no repair: a sync changes no container
  if (!snap) {
    ctx.Log("error: " + snap.error().What());
    return std::unexpected(snap.error());
  }
  ctx.SetCommit(snap->commit);
  ctx.Log("sync: repository at " + snap->commit.substr(0, 12) + "; " +
          std::to_string(snap->desired.stacks.size()) + " stacks planned, nothing deployed");
  std::size_t would_change = 0;
  std::map<std::string, std::string> suspended;
  for (const auto& [stack, c] : snap->controls) {
    if (c.suspended) suspended[stack] = state::DescribeSuspension(*c.suspended);
  }
  for (const auto& p : PlanEveryStack(snap->plan, {{},
                                                   false,
                                                   config->prune,
                                                   config->self.stack,
                                                   own_container_,
                                                   BackingOff(snap->desired),
                                                   std::move(suspended)})) {
    const std::string word(ToString(p.outcome));
    ctx.Log("stack " + p.name + " " + word + (p.reason.empty() ? "" : ": " + p.reason));
    ctx.SetStackOutcome({p.name, word, p.reason, 0});
    if (word.starts_with("would-")) ++would_change;
  }
  ctx.Log(would_change == 0 ? "a deploy of every changed stack would change nothing"
                            : "a deploy of every changed stack would change " + std::to_string(would_change) +
                                  (would_change == 1 ? " stack" : " stacks"));
  return {};
}

void Engine::Force(const state::Trigger& trigger, Snapshot& snap, RunContext& ctx) const {
  if (!trigger.force) return;
  const std::string& self = Config()->self.stack;
  for (auto& sp : snap.plan.stacks) {
    if (std::find(trigger.stacks.begin(), trigger.stacks.end(), sp.name) == trigger.stacks.end()) continue;
    if (!self.empty() && sp.name == self) {
      ctx.Log("stack " + sp.name + " is podcd's own (self.stack): force recreate leaves it as planned");
      continue;
    }
    sp = ForceRecreate(sp);
  }
}

Expected<void> Engine::Run(const state::Trigger& trigger, RunContext& ctx) {
  if (trigger.kind == state::TriggerKind::kSync) return PlanOnly(ctx);
  const auto config = Config();
  auto snap = Observe(true, true);
  if (!snap) {
    ctx.Log("error: " + snap.error().What());
    return std::unexpected(snap.error());
  }
  ctx.SetCommit(snap->commit);
  ctx.Log("repository at " + snap->commit.substr(0, 12) + "; " + std::to_string(snap->desired.stacks.size()) +
          " stacks, " + std::to_string(snap->actual.size()) + " managed containers");
  for (const auto& r : snap->recovered) ctx.Log("recovered interrupted deployment: " + r);
  RemoveUnpinnedTrees(*config, snap->controls);
  // A stack in sync that has no record yet (deployed before podcd kept them) gets one now.
  for (const auto& sp : snap->plan.stacks) {
    std::error_code ec;
    if (sp.action == core::Action::kUnchanged &&
        !std::filesystem::exists(DeployedFieldsPath(config->state_dir, sp.name), ec))
      KeepDeployedFields(sp.name, *snap);
  }
  Force(trigger, *snap, ctx);

  const bool update_images = trigger.pull || trigger.kind == state::TriggerKind::kRedeployAndUpdate;
  std::map<std::string, std::string> suspended;
  for (const auto& [stack, c] : snap->controls) {
    if (c.suspended) suspended[stack] = state::DescribeSuspension(*c.suspended);
  }
  const Selection selection =
      SelectStacks(snap->plan, {trigger.stacks, update_images, config->prune, config->self.stack,
                                own_container_, BackingOff(snap->desired), suspended});
  if (selection.unknown)
    return Fail(ErrorCode::kNotFound, "no stack named " + *selection.unknown + " in the repository");
  Tally tally;
  Report(selection, ctx, tally);
  if (!selection.refused_suspended.empty()) {
    // Naming a suspended stack is asking for what an operator forbade: refused, nothing applied.
    std::string why;
    for (const auto& name : selection.refused_suspended)
      why += (why.empty() ? "" : "; ") + ("stack " + name + " is " + suspended.at(name));
    ctx.Log("refused: " + why + "; resume it first (podcd resume STACK)");
    return Fail(ErrorCode::kPermissionDenied, "refused: " + why + "; resume it first");
  }
  // Each stack is prepared in turn (back-off, job, podcd's own), then applied: several at once
  // (parallel_stacks), a stack using another's network as external after it, podcd's own last.
  std::vector<Work> work;
  std::optional<Work> self_work;
  if (trigger.pull_uploaded) {  // asked for: uploaded images are pulled over like any other
    if (!snap->uploads.empty()) ctx.Log("pull_uploaded: images uploaded for these stacks are pulled too");
    snap->uploads.clear();
  }
  Prepare(selection, *snap, update_images, ctx, tally, work, self_work);
  GateOptions gate = GateFromConfig(*config);
  gate.stopping = [&ctx] { return ctx.StopRequested(); };
  auto interrupted = [&] {
    ctx.Log("stopping: remaining stacks left for the next reconcile");
    return Fail(ErrorCode::kUnavailable, "interrupted");
  };
  if (!ApplyScheduled(work, *snap, gate, ctx, tally)) return interrupted();
  if (self_work) {
    if (ctx.StopRequested()) return interrupted();
    if (self_work->hand_over) {
      // Replacing this very container would stop this process half-way: an updater does it,
      // now that everything else is done.
      return HandOverSelf(*self_work->job, StackKey(*snap->desired.Find(self_work->plan->name)), snap->commit,
                          tally.Failures(), ctx);
    }
    ApplyOne(*self_work, *snap, gate, ctx, tally);
  }
  Verify(*snap, selection, trigger, ctx, tally);
  if (selection.run.empty()) ctx.Log("nothing to do: every stack is in sync");
  if (tally.Failed()) return Fail(ErrorCode::kInternal, "failed stacks: " + tally.Failures());
  return {};
}

void Engine::RememberFailure(const std::string& stack, const std::string& key) {
  backoff_.Failed(stack, key, clock_.Now());
}

const ServiceJob* Engine::OwnService(const StackJob& job) const {
  return ServiceOfContainer(job, own_container_);
}

// Pulls the new image, writes the hand-over and starts the updater; an error's message says
// why the self-update failed (nothing was changed).
Expected<Engine::Updater> Engine::StartUpdater(const StackJob& job, const std::string& commit,
                                               const std::string& earlier_failures, RunContext& ctx) {
  const std::filesystem::path state_dir = Config()->state_dir;
  const ServiceJob& own = *OwnService(job);
  // The updater runs from the new image: it must be here before anything else happens.
  const std::string& image = own.spec.image;
  auto present = runtime_.ImageExists(image);
  if (!present) return Fail(ErrorCode::kInternal, "checking image " + image + ": " + present.error().What());
  if (!*present || job.update_images) {
    if (own.pull_never && !*present)
      return Fail(ErrorCode::kInternal, "image " + image + " is missing and pull_policy is never");
    ctx.Log("[" + job.name + "] pulling " + image + " for the updater");
    if (auto r = runtime_.Pull(
            image, job.update_images ? podman::PullPolicy::kAlways : podman::PullPolicy::kMissing);
        !r) {
      return Fail(ErrorCode::kInternal, "pulling " + image + ": " + r.error().What());
    }
  }
  auto running = runtime_.RunConfigOf(own_container_);
  if (!running)
    return Fail(ErrorCode::kInternal, "inspecting this podcd's container: " + running.error().What());
  podman::ContainerSpec spec = UpdaterSpec(*running, image, job.name, ctx.Id());
  (void)runtime_.Remove(spec.name);  // a previous updater's container, if one was left behind
  HandOver h;
  h.deployment = ctx.Id();
  h.stack = job.name;
  h.commit = commit;
  h.updater = spec.name;
  h.container = own_container_;
  h.service = own.name;
  h.earlier_failures = earlier_failures;
  h.started_at_ms = state::NowMs();
  std::error_code ec;
  std::filesystem::remove(HandOverResultPath(state_dir), ec);
  if (auto r = WriteHandOver(state_dir, h); !r)
    return Fail(ErrorCode::kInternal,
                "writing " + HandOverPath(state_dir).string() + ": " + r.error().What());
  auto id = runtime_.Create(spec);
  if (!id) {
    ClearHandOver(state_dir);
    return Fail(ErrorCode::kInternal,
                "creating the updater container " + spec.name + ": " + id.error().What());
  }
  if (auto r = runtime_.Start(*id); !r) {
    (void)runtime_.Remove(*id);
    ClearHandOver(state_dir);
    return Fail(ErrorCode::kInternal,
                "starting the updater container " + spec.name + ": " + r.error().What());
  }
  return Updater{*id, spec};
}

Expected<void> Engine::HandOverSelf(const StackJob& job, const std::string& key, const std::string& commit,
                                    const std::string& earlier_failures, RunContext& ctx) {
  const auto config = Config();
  const std::filesystem::path state_dir = config->state_dir;
  const ServiceJob& own = *OwnService(job);
  // The self stack failed: it backs off, and the run fails naming it after the others.
  auto failed = [&]() -> Expected<void> {
    backoff_.Failed(job.name, key, clock_.Now());
    return Fail(
        ErrorCode::kInternal,
        "failed stacks: " + (earlier_failures.empty() ? job.name : earlier_failures + ", " + job.name));
  };
  auto fail = [&](const std::string& why) -> Expected<void> {
    ctx.Log("[" + job.name + "] self-update failed: " + why + "; this podcd keeps running");
    ctx.SetStackOutcome(Outcome(job.name, StackOutcomeKind::kFailed, why));
    return failed();
  };
  auto updater = StartUpdater(job, commit, earlier_failures, ctx);
  if (!updater) return fail(updater.error().message);
  const std::string& image = own.spec.image;
  const std::string& id = updater->id;
  const podman::ContainerSpec& spec = updater->spec;
  ctx.Log("[" + job.name + "] podcd itself changed (" + Join(own.reasons, "; ") +
          "): handed over to the updater container " + spec.name + " (" + image +
          "); the podcd that runs next closes this deployment");
  ctx.SetStackOutcome(Outcome(job.name, StackOutcomeKind::kHandedOver, "updater " + spec.name));
  // Normally the updater stops this container and the stop ends the wait. If the updater ends
  // first, it failed before touching us (or found nothing to do): its result closes the run here.
  const auto deadline = clock_.Now() + HandOverTimeout(*config);
  for (;;) {
    if (ctx.StopRequested()) {
      ctx.Log("[" + job.name + "] stopped by the updater; the podcd that runs next closes this deployment");
      ctx.HandOver();
      return Fail(ErrorCode::kUnavailable, "handed over to the self-updater");
    }
    if (UpdaterEnded(runtime_, id, clock_)) break;
    if (clock_.Now() > deadline) {
      ctx.Log("[" + job.name + "] the updater " + spec.name +
              " is still running after the health timeout + 5 min; "
              "its result, if it ever comes, closes nothing");
      (void)runtime_.Stop(id, std::chrono::seconds(5));
      ClearHandOver(state_dir);
      return fail("the updater did not finish in time");
    }
    clock_.Sleep(std::chrono::milliseconds(250));
  }
  for (auto& line : UpdaterLog(runtime_, id, 100)) ctx.Log(std::move(line));
  auto result = ReadHandOverResult(state_dir);
  (void)runtime_.Remove(id);
  ClearHandOver(state_dir);
  if (!result || !*result || (*result)->deployment != ctx.Id()) {
    return fail("the updater ended without a result" +
                (result ? std::string() : " (" + result.error().What() + ")"));
  }
  const HandOverResult& r = **result;
  for (const auto& l : r.log) ctx.Log("[" + job.name + "] " + l);
  ctx.SetStackOutcome({job.name, r.outcome, r.reason, r.duration_ms});
  if (!r.ok) return failed();
  if (!earlier_failures.empty()) return Fail(ErrorCode::kInternal, "failed stacks: " + earlier_failures);
  backoff_.Succeeded(job.name, clock_.Now());
  return {};
}

}  // namespace podcd::reconcile
