#include "cli/daemon_parts.hpp"
#include "util/strings.hpp"

#include <unistd.h>

#include <filesystem>
#include <set>

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

}  // namespace podcd::cli
