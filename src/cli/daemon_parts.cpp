#include "cli/daemon_parts.hpp"
#include "util/strings.hpp"

#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "util/log.hpp"
#include "util/sha256.hpp"

namespace podcd::cli {

podman::ClientOptions PodmanOptions(const config::Config& cfg) {
  podman::ClientOptions o;
  o.socket_path = cfg.podman.socket;
  o.long_timeout = cfg.podman.timeout;
  o.auth_file = cfg.podman.auth_file;
  return o;
}

DaemonHealth::DaemonHealth(std::shared_ptr<const config::Config> cfg) : cfg_(std::move(cfg)) {}

std::vector<std::string> DaemonHealth::Problems() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return last_;
  std::vector<std::string> problems;
  if (!client_) {
    auto o = PodmanOptions(*cfg_);
    o.timeout = std::chrono::seconds(2);
    o.connect_timeout = std::chrono::seconds(2);
    client_ = std::make_unique<podman::Client>(o);
  }
  if (auto ping = client_->Ping(); !ping)
    problems.push_back("podman socket " + cfg_->podman.socket + ": " + ping.error().What());
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(cfg_->repo.path) / cfg_->repo.services_dir, ec)) {
    problems.push_back("repository work tree " + cfg_->repo.path + " has no " + cfg_->repo.services_dir +
                       " directory");
  }
  if (::access(cfg_->state_dir.c_str(), W_OK) != 0)
    problems.push_back("state directory " + cfg_->state_dir + " is not writable");
  last_ = problems;
  checked_ = now;
  return problems;
}

EngineCatalog::EngineCatalog(std::shared_ptr<const config::Config> cfg, reconcile::Engine& engine,
                             state::Store& store)
    : cfg_(std::move(cfg)), engine_(engine), store_(store) {}

bool EngineCatalog::Exists(std::string_view name) {
  if (!IsValidStackName(name)) return false;
  std::error_code ec;
  return std::filesystem::is_directory(
      std::filesystem::path(cfg_->repo.path) / cfg_->repo.services_dir / name, ec);
}

std::vector<http::StackInfo> EngineCatalog::List() {
  std::lock_guard lock(mutex_);
  std::vector<http::StackInfo> out;
  auto snap = engine_.Observe(false, false);
  if (!snap) return out;
  // The newest deployment that touched each stack decides "failed".
  std::map<std::string, std::string> last_outcome;
  for (const auto& d : store_.List(200)) {
    for (const auto& s : d.stacks) last_outcome.try_emplace(s.name, s.outcome);
  }
  for (const auto& sp : snap->plan.stacks) {
    http::StackInfo info;
    info.name = sp.name;
    std::set<std::string> fps;
    for (const auto& c : snap->actual) {
      if (c.stack != sp.name || c.temporary) continue;
      // Ids start with a UTC timestamp: the greatest is the newest deployment.
      if (c.deployment > info.last_deployment) {
        info.last_deployment = c.deployment;
        info.commit = c.commit;
      }
      fps.insert(c.service + "=" + c.fingerprint);
    }
    std::string joined;
    for (const auto& f : fps) joined += f + "\n";
    info.fingerprint = fps.empty() ? "" : Sha256Hex(joined).substr(0, 16);
    bool drifted = false;
    for (const auto& svc : sp.services) {
      for (const auto& r : svc.reasons) {
        if (r.starts_with("container ") || r.find("containers for one service") != std::string::npos)
          drifted = true;
      }
    }
    auto lo = last_outcome.find(sp.name);
    if (lo != last_outcome.end() &&
        (lo->second == "failed" || lo->second == "invalid" || lo->second == "refused") &&
        sp.action != core::Action::kUnchanged) {
      info.state = "failed";
    } else if (sp.action == core::Action::kInvalid || sp.action == core::Action::kRefused) {
      info.state = std::string(core::ToString(sp.action));
    } else if (sp.action == core::Action::kUnchanged) {
      info.state = "in-sync";
    } else if (sp.action == core::Action::kRemove) {
      info.state = "removed";
    } else {
      info.state = drifted ? "drifted" : "changed";
    }
    out.push_back(std::move(info));
  }
  return out;
}

void CloseHandOver(const reconcile::HandOver& h, const config::Config& cfg, state::Store& store,
                   reconcile::Runtime& runtime, reconcile::Engine& engine,
                   const std::atomic<bool>& stopping) {
  const std::filesystem::path dir = cfg.state_dir;
  log::Info("a self-update is pending: waiting for its result before the first reconcile",
            {{"deployment", h.deployment}, {"updater", h.updater}});
  auto waited = reconcile::AwaitUpdaterResult(runtime, h, dir, reconcile::RealClock(),
                                              reconcile::HandOverTimeout(cfg), stopping);
  for (const auto& note : waited.notes)
    log::Warn(note, {{"deployment", h.deployment}, {"updater", h.updater}});
  const auto& result = waited.result;
  auto updater_running = [&] { return !reconcile::UpdaterEnded(runtime, h.updater, reconcile::RealClock()); };
  if (stopping && !result) return;
  // Let the updater print its last line and end before its logs are copied and it is removed.
  for (int i = 0; i < 40 && updater_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  if (auto d = store.Get(h.deployment); d && !state::IsFinished(d->state)) {
    for (auto& line : reconcile::UpdaterLog(runtime, h.updater, 200)) state::AppendLog(*d, std::move(line));
    for (const auto& note : waited.notes) state::AppendLog(*d, "[" + h.stack + "] " + note);
    state::StackOutcome outcome{h.stack, "failed", "", 0};
    if (result) {
      for (const auto& l : result->log) state::AppendLog(*d, "[" + h.stack + "] " + l);
      outcome = {h.stack, result->outcome, result->reason, result->duration_ms};
    } else {
      outcome.reason = "the updater " + h.updater + " ended, vanished or timed out without a result";
      state::AppendLog(*d, "[" + h.stack + "] self-update failed: " + outcome.reason);
    }
    bool replaced = false;
    for (auto& s : d->stacks) {
      if (s.name == h.stack) {
        s = outcome;
        replaced = true;
      }
    }
    if (!replaced) d->stacks.push_back(outcome);
    const bool ok = result && result->ok;
    std::vector<std::string> failed;
    if (!h.earlier_failures.empty()) failed.push_back(h.earlier_failures);
    if (!ok) failed.push_back(h.stack);
    d->state = failed.empty() ? state::DeploymentState::kSucceeded : state::DeploymentState::kFailed;
    d->reason = failed.empty() ? "" : "failed stacks: " + Join(failed, ", ");
    d->finished_at_ms = state::NowMs();
    state::AppendLog(*d, ok ? "self-update done: this podcd runs the new version"
                            : "self-update failed: this podcd is the previous version, rolled back");
    if (auto r = store.Save(*d); !r)
      log::Error("cannot save deployment", {{"id", d->id}, {"error", r.error().What()}});
    log::Info("deployment finished", {{"id", d->id},
                                      {"state", std::string(state::ToString(d->state))},
                                      {"self_update", ok ? "ok" : "failed"}});
  }
  if (result && !result->ok && !result->stack_key.empty()) engine.RememberFailure(h.stack, result->stack_key);
  (void)runtime.Remove(h.updater);
  reconcile::ClearHandOver(dir);
}

}  // namespace podcd::cli
