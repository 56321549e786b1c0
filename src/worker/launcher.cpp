#include "worker/launcher.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "process/spawn.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::worker {
namespace {

// Splits the worker's stdout into event lines and applies each to the context.
class EventReader {
 public:
  EventReader(std::string_view command, reconcile::RunContext& ctx, std::string* data)
      : command_(command), ctx_(ctx), data_(data) {}

  void Append(std::string_view chunk) {
    constexpr std::size_t kMaxLine = 8u << 20;
    buffer_.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1)
      HandleLine(std::string_view(buffer_).substr(start, nl - start));
    buffer_.erase(0, start);
    if (buffer_.size() > kMaxLine) {
      log::Warn("a worker line is too long; dropped", {{"command", std::string(command_)}});
      buffer_.clear();
    }
  }

  // The last line, which may lack its newline.
  void Finish() { HandleLine(buffer_); }

  std::optional<Expected<void>> result;

 private:
  void HandleLine(std::string_view line) {
    if (line.empty()) return;
    auto applied = ApplyEvent(line, ctx_);
    if (!applied) {
      log::Warn("unreadable line from a worker",
                {{"command", std::string(command_)}, {"error", applied.error().What()}});
      return;
    }
    if (applied->result) result = std::move(*applied->result);
    if (applied->data && data_ != nullptr) *data_ = std::move(*applied->data);
  }

  std::string_view command_;
  reconcile::RunContext& ctx_;
  std::string* data_;
  std::string buffer_;
};

// "2GiB", "1.5GiB", "512MiB".
std::string FormatBytes(std::int64_t bytes) {
  constexpr std::pair<int, const char*> kUnits[] = {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
  for (auto [shift, unit] : kUnits) {
    const std::int64_t one = std::int64_t{1} << shift;
    if (bytes < one) continue;
    if (bytes % one == 0) return std::to_string(bytes / one) + unit;
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%s", static_cast<double>(bytes) / static_cast<double>(one), unit);
    return text;
  }
  return std::to_string(bytes) + " bytes";
}

// Sanitizers reserve terabytes of shadow memory as data: under a data limit a worker could
// not start, so such builds run their workers without one.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMemoryLimitWorks = false;
#else
constexpr bool kMemoryLimitWorks = true;
#endif

}  // namespace

std::chrono::milliseconds GraceAfter(std::chrono::milliseconds timeout) {
  return std::min<std::chrono::milliseconds>(timeout / 10, std::chrono::minutes(1));
}

Launcher::Launcher(std::string binary, std::vector<std::string> global_args)
    : binary_(std::move(binary)), global_args_(std::move(global_args)) {}

Expected<void> Launcher::Run(std::string_view command, const Request& request, reconcile::RunContext& ctx,
                             std::string* data, Limits limits) const {
  const std::string what = "worker process (podcd " + std::string(command) + ")";
  Request stamped = request;
  stamped.daemon_version = PODCD_VERSION;
  stamped.secrets = log::Secrets();
  EventReader reader(command, ctx, data);

  process::Spec spec;
  spec.argv = {binary_};
  spec.argv.insert(spec.argv.end(), global_args_.begin(), global_args_.end());
  spec.argv.emplace_back(command);
  spec.input = EncodeRequest(stamped);
  spec.capture_stderr = false;  // the worker's log lines are the daemon's
  spec.on_output = [&](std::string_view chunk) { reader.Append(chunk); };
  // Past the time limit the worker is asked to stop like a daemon that stops asks it, so it
  // leaves the host as a stop would; the hard timeout kills it if it does not.
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limits.timeout;
  bool over_time = false;
  spec.stop_requested = [&] {
    if (limits.timeout.count() > 0 && !over_time && Clock::now() >= deadline) {
      over_time = true;
      log::Warn("a worker exceeded its time limit; stopping it",
                {{"command", std::string(command)}, {"limit", FormatDuration(limits.timeout)}});
    }
    return over_time || ctx.StopRequested();
  };
  if (limits.timeout.count() > 0) spec.timeout = limits.timeout + GraceAfter(limits.timeout);
  if (kMemoryLimitWorks) spec.memory_limit_bytes = limits.memory_max;
  spec.on_start = [&](pid_t pid) {
    log::Debug("worker started", {{"command", std::string(command)}, {"pid", std::to_string(pid)}});
  };
  // A worker stops at its next safe point: on a stop request, and when the daemon dies.
  spec.death_signal = SIGTERM;
  spec.block_stop_signals = true;  // until its handler is set (worker/jobs.cpp)
  auto ended = process::Run(spec);
  if (!ended) return Fail(ErrorCode::kInternal, ended.error().message, what);
  reader.Finish();
  const std::string how = process::DescribeExit(*ended);
  log::Debug("worker ended", {{"command", std::string(command)}, {"how", how}});
  // A job that still finished its work within the grace period succeeded.
  if (over_time && !(reader.result && *reader.result)) {
    return Fail(ErrorCode::kTimeout,
                "worker exceeded its time limit (" + FormatDuration(limits.timeout) + ", worker.timeout)" +
                    (ended->timed_out ? "; killed after " + FormatDuration(GraceAfter(limits.timeout)) +
                                            " more without reaching a safe point"
                                      : "; stopped at a safe point"),
                what);
  }
  if (ended->signal == 0 && ended->exit_code == process::kExitMemoryLimit && spec.memory_limit_bytes > 0) {
    return Fail(
        ErrorCode::kInternal,
        "worker exceeded its memory limit (" + FormatBytes(limits.memory_max) + ", worker.memory_max)", what);
  }
  if (reader.result) return std::move(*reader.result);
  return Fail(ErrorCode::kInternal, "ended without a result: " + how, what);
}

}  // namespace podcd::worker
