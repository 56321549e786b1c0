#include "worker/launcher.hpp"

#include <csignal>

#include "process/spawn.hpp"
#include "util/log.hpp"

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

}  // namespace

Launcher::Launcher(std::string binary, std::vector<std::string> global_args)
    : binary_(std::move(binary)), global_args_(std::move(global_args)) {}

Expected<void> Launcher::Run(std::string_view command, const Request& request, reconcile::RunContext& ctx,
                             std::string* data) const {
  const std::string what = "worker process (podcd " + std::string(command) + ")";
  Request stamped = request;
  stamped.daemon_version = PODCD_VERSION;
  EventReader reader(command, ctx, data);

  process::Spec spec;
  spec.argv = {binary_};
  spec.argv.insert(spec.argv.end(), global_args_.begin(), global_args_.end());
  spec.argv.emplace_back(command);
  spec.input = EncodeRequest(stamped);
  spec.capture_stderr = false;  // the worker's log lines are the daemon's
  spec.on_output = [&](std::string_view chunk) { reader.Append(chunk); };
  spec.stop_requested = [&] { return ctx.StopRequested(); };
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
  if (reader.result) return std::move(*reader.result);
  return Fail(ErrorCode::kInternal, "ended without a result: " + how, what);
}

}  // namespace podcd::worker
