// Starts the daemon's worker processes (`podcd __run` and friends, worker/protocol.hpp) and
// relays what they report.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconcile/queue.hpp"
#include "util/error.hpp"
#include "worker/protocol.hpp"

namespace podcd::worker {

// What one job may take (config worker.*): past the time limit the worker gets SIGTERM and
// stops at its next safe point, and is killed when it has not ended a grace period later
// (GraceAfter); past the memory limit an allocation fails and the worker ends. Either fails the
// job with that reason. Zero: no limit.
struct Limits {
  std::chrono::milliseconds timeout{0};
  std::int64_t memory_max = 0;
};
// The time a worker past its limit gets to reach a safe point: a tenth of the limit, at most a
// minute.
std::chrono::milliseconds GraceAfter(std::chrono::milliseconds timeout);

class Launcher {
 public:
  // `binary`: the podcd executable; `global_args`: options put before the command (--log-level).
  Launcher(std::string binary, std::vector<std::string> global_args);

  // Runs `podcd <command>` with `request` on its stdin and applies each event it prints to
  // `ctx`; once ctx.StopRequested() turns true the worker gets SIGTERM (once) and stops at a
  // safe point. Returns the worker's result, or an error naming how it ended without one. The
  // data event's JSON, if any, goes to `data`.
  Expected<void> Run(std::string_view command, const Request& request, reconcile::RunContext& ctx,
                     std::string* data = nullptr, Limits limits = {}) const;

  [[nodiscard]] const std::string& Binary() const { return binary_; }

 private:
  std::string binary_;
  std::vector<std::string> global_args_;
};

}  // namespace podcd::worker
