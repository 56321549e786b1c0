#include "daemon/daemon_parts.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "http/stack_controls_api.hpp"
#include "state/controls.hpp"
#include "util/log.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"
#include "worker/load_image.hpp"

namespace podcd::daemon {

Expected<void> PingPodman(const std::string& socket_path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    return Fail(ErrorCode::kInvalidArgument, "socket path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kInternal, std::string("socket: ") + std::strerror(errno));
  ScopeExit close_fd([fd] { ::close(fd); });
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return Fail(ErrorCode::kUnavailable, std::string("cannot connect: ") + std::strerror(errno));
  constexpr std::string_view kRequest = "GET /v4.0.0/libpod/_ping HTTP/1.0\r\nHost: podman\r\n\r\n";
  if (::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kRequest.size()))
    return Fail(ErrorCode::kUnavailable, std::string("cannot send: ") + std::strerror(errno));
  std::string answer;
  char buf[512];
  while (answer.find("\r\n") == std::string::npos && answer.size() < 4096) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Fail(ErrorCode::kUnavailable, "no answer within " + FormatDuration(timeout));
    if (n < 0) return Fail(ErrorCode::kUnavailable, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  std::string status = answer.substr(0, answer.find("\r\n"));
  // "HTTP/1.1 200 OK"
  if (status.size() >= 12 && status.starts_with("HTTP/1.") && status.compare(8, 4, " 200") == 0) return {};
  return Fail(ErrorCode::kUnavailable,
              status.empty() ? "closed without an answer" : "answered \"" + status + "\"");
}

ConfigHolder::ConfigHolder(std::shared_ptr<const config::Config> boot)
    : boot_(boot), current_(std::move(boot)) {}

void ConfigHolder::Set(std::shared_ptr<const config::Config> current) {
  *current_.Lock() = std::move(current);
}

std::shared_ptr<const config::Config> ConfigHolder::Current() const { return *current_.Lock(); }

worker::ConfigSnapshot ConfigHolder::Snapshot() const { return worker::SnapshotOf(*boot_, *Current()); }

worker::Limits ConfigHolder::Limits() const {
  const auto current = Current();
  return {current->worker.timeout, current->worker.memory_max};
}

DaemonHealth::DaemonHealth(std::shared_ptr<const config::Config> cfg) : cfg_(std::move(cfg)) {}

std::optional<std::string> StateDirProblem(const std::string& dir) {
  if (::access(dir.c_str(), W_OK) != 0) return "state directory " + dir + " is not writable";
  return std::nullopt;
}

std::vector<std::string> DaemonHealth::Problems() {
  auto last = last_.Lock();
  auto now = std::chrono::steady_clock::now();
  if (now - last->checked < std::chrono::seconds(1)) return last->problems;
  std::vector<std::string> problems;
  if (auto ping = PingPodman(cfg_->podman.socket, std::chrono::seconds(2)); !ping)
    problems.push_back("podman socket " + cfg_->podman.socket + ": " + ping.error().What());
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(cfg_->repo.path) / cfg_->repo.services_dir, ec)) {
    problems.push_back("repository work tree " + cfg_->repo.path + " has no " + cfg_->repo.services_dir +
                       " directory");
  }
  if (auto problem = StateDirProblem(cfg_->state_dir)) problems.push_back(*problem);
  last->problems = problems;
  last->checked = now;
  return problems;
}

WorkerExecutor::WorkerExecutor(const worker::Launcher& launcher, const ConfigHolder& config)
    : launcher_(launcher), config_(config) {}

Expected<void> WorkerExecutor::Run(const state::Trigger& trigger, reconcile::RunContext& ctx) {
  worker::Request request{ctx.Id(), trigger, config_.Snapshot(), {}, {}};
  auto r = launcher_.Run("__run", request, ctx, nullptr, config_.Limits());
  if (!r && r.error().context.starts_with("worker process")) ctx.Log("error: " + r.error().What());
  return r;
}

Expected<http::LoadResult> WorkerImageLoader::Load(const std::string& stack, const std::string& archive) {
  LogOnlyContext ctx;
  std::string data;
  state::Trigger t;
  t.stacks = {stack};
  if (auto r = launcher_.Run("__load-image", worker::Request{archive, t, config_.Snapshot(), {}, {}}, ctx,
                             &data, config_.Limits());
      !r)
    return std::unexpected(r.error());
  auto a = worker::DecodeLoadAnswer(data);
  if (!a) return std::unexpected(a.error());
  return http::LoadResult{a->status, a->error, a->images, a->ids, a->added};
}

WorkerCatalog::WorkerCatalog(const worker::Launcher& launcher, const ConfigHolder& config,
                             state::Store& store, http::DirectoryCatalog& directory)
    : launcher_(launcher), config_(config), store_(store), directory_(directory) {}

bool WorkerCatalog::Exists(std::string_view name) { return directory_.Exists(name); }

void LogOnlyContext::Log(std::string line) { log::Info(line); }

std::string StackState(const worker::StackObservation& s, const std::string& last_outcome) {
  if ((last_outcome == "failed" || last_outcome == "invalid" || last_outcome == "refused") &&
      s.action != "unchanged")
    return "failed";
  if (s.action == "invalid" || s.action == "refused") return s.action;
  if (s.action == "unchanged") return "in-sync";
  if (s.action == "remove") return "removed";
  return s.drifted ? "drifted" : "changed";
}

Expected<std::vector<http::StackInfo>> WorkerCatalog::List() {
  return WithControls(ObserveSince(std::chrono::steady_clock::now()));
}

Expected<std::vector<http::StackInfo>> WorkerCatalog::Recent(std::chrono::milliseconds max_age) {
  return WithControls(ObserveSince(std::chrono::steady_clock::now() - max_age));
}

// The controls are read at every answer, not cached with the observation: a stack suspended a
// moment ago shows as suspended at once. A damaged file fails the answer, naming it.
Expected<std::vector<http::StackInfo>> WorkerCatalog::WithControls(
    Expected<std::vector<http::StackInfo>> stacks) {
  if (!stacks) return stacks;
  auto controls = state::ReadStackControls(state::StackControlsPath(config_.Current()->state_dir));
  if (!controls) {
    log::Warn("GET /stacks: the stack controls cannot be read", {{"error", controls.error().What()}});
    return std::unexpected(controls.error());
  }
  http::ApplyControls(*stacks, *controls);
  return stacks;
}

Expected<std::vector<http::StackInfo>> WorkerCatalog::ObserveSince(
    std::chrono::steady_clock::time_point since) {
  auto observed = observed_.Lock();
  if (observed->answer && observed->began >= since) return *observed->answer;
  observed->began = std::chrono::steady_clock::now();
  observed->answer = [&]() -> Expected<std::vector<http::StackInfo>> {
    LogOnlyContext ctx;
    std::string data;
    if (auto r = launcher_.Run("__stacks", worker::Request{{}, {}, config_.Snapshot(), {}, {}}, ctx, &data,
                               config_.Limits());
        !r) {
      log::Warn("GET /stacks: cannot observe the stacks", {{"error", r.error().What()}});
      return std::unexpected(r.error());
    }
    auto stacks = worker::DecodeStacks(data);
    if (!stacks) {
      log::Warn("GET /stacks: unreadable worker answer", {{"error", stacks.error().What()}});
      return std::unexpected(stacks.error());
    }
    // The newest deployment that touched each stack decides "failed" (a sync touches none).
    std::map<std::string, std::string> last_outcome;
    for (const auto& d : store_.List(200)) {
      if (d.trigger.kind == state::TriggerKind::kSync) continue;
      for (const auto& s : d.stacks) last_outcome.try_emplace(s.name, s.outcome);
    }
    std::vector<http::StackInfo> out;
    for (const auto& s : *stacks) {
      auto lo = last_outcome.find(s.name);
      http::StackInfo info{s.name, s.commit, s.fingerprint,
                           StackState(s, lo == last_outcome.end() ? "" : lo->second), s.last_deployment};
      for (const auto& v : s.services)
        info.services.push_back({v.name, v.container, v.status, v.health, v.image});
      info.reasons = s.reasons;
      info.notes = s.notes;
      for (const auto& c : s.changes)
        info.changes.push_back({c.service, c.field, c.change, c.old_value, c.new_value});
      out.push_back(std::move(info));
    }
    return out;
  }();
  return *observed->answer;
}

void CloseHandOver(const reconcile::HandOver& h, const worker::Launcher& launcher, const ConfigHolder& config,
                   state::Store& store, const std::atomic<bool>& stopping) {
  log::Info("a self-update is pending: a worker waits for its result before the first reconcile",
            {{"deployment", h.deployment}, {"updater", h.updater}});
  const worker::Request request{h.deployment, {}, config.Snapshot(), {}, {}};
  auto d = store.Get(h.deployment);
  if (!d || state::IsFinished(d->state)) {
    // Nothing to close; the worker still removes the updater and the hand-over files.
    LogOnlyContext ctx([&] { return stopping.load(); });
    if (auto r = launcher.Run("__close-handover", request, ctx, nullptr, config.Limits()); !r)
      log::Warn("closing the self-update", {{"error", r.error().What()}});
    return;
  }
  reconcile::RecordContext ctx(store, *d, [&] { return stopping.load(); });
  auto result = launcher.Run("__close-handover", request, ctx, nullptr, config.Limits());
  if (ctx.HandedOver()) return;  // stopping before a result came: the next start closes it
  d->state = result ? state::DeploymentState::kSucceeded : state::DeploymentState::kFailed;
  d->reason = result ? "" : result.error().What();
  d->finished_at_ms = state::NowMs();
  if (auto r = store.Save(*d); !r)
    log::Error("cannot save deployment", {{"id", d->id}, {"error", r.error().What()}});
  log::Info("deployment finished", {{"id", d->id},
                                    {"state", std::string(state::ToString(d->state))},
                                    {"self_update", result ? "ok" : "failed"}});
}

}  // namespace podcd::daemon
