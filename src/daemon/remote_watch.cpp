#include "daemon/remote_watch.hpp"

#include "util/log.hpp"
#include "util/metrics.hpp"

namespace podcd::daemon {

RemoteWatch::RemoteWatch(const worker::Launcher& launcher, const ConfigHolder& config,
                         std::chrono::milliseconds interval, std::chrono::milliseconds first)
    : launcher_(launcher), config_(config), interval_(interval) {
  if (interval_.count() > 0 && !config_.Current()->repo.url.empty())
    thread_ = std::thread([this, first] { Loop(first); });
}

void RemoteWatch::Stop() {
  *stop_.Lock() = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteWatch::Loop(std::chrono::milliseconds first) {
  auto wait = first;
  for (;;) {
    if (stop_.Lock().WaitFor(cv_, wait, [](bool s) { return s; })) return;
    CheckOnce();
    wait = interval_;
  }
}

void RemoteWatch::CheckOnce() {
  LogOnlyContext ctx([this] { return *stop_.Lock(); });
  auto limits = config_.Limits();
  // One ls-remote: bounded like a sync.
  limits.timeout = config_.Current()->repo.sync_timeout;
  auto r = launcher_.Run("__remote-head", worker::Request{{}, {}, config_.Snapshot(), {}, {}}, ctx, nullptr,
                         limits);
  if (r) {
    if (!last_error_.empty()) log::Info("the remote answers again");
    last_error_.clear();
    return;
  }
  metrics::Add("podcd_repo_remote_check_failures_total");
  // A remote that stays unreachable is said once, not every interval.
  if (r.error().What() == last_error_) return;
  last_error_ = r.error().What();
  if (r.error().code == ErrorCode::kNotFound)
    log::Info("remote check: no repository yet", {{"error", last_error_}});
  else
    log::Warn("remote check failed; the dashboard cannot say whether the remote is ahead",
              {{"error", last_error_}});
}

}  // namespace podcd::daemon
