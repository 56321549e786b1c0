// Starts the daemon's worker processes (`podcd __run` and friends, worker/protocol.hpp) and
// relays what they report.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reconcile/queue.hpp"
#include "util/error.hpp"
#include "worker/protocol.hpp"

namespace podcd::worker {

class Launcher {
 public:
  // `binary`: the podcd executable; `global_args`: options put before the command (--log-level).
  Launcher(std::string binary, std::vector<std::string> global_args);

  // Runs `podcd <command>` with `request` on its stdin and applies each event it prints to
  // `ctx`; once ctx.StopRequested() turns true the worker gets SIGTERM (once) and stops at a
  // safe point. Returns the worker's result, or an error naming how it ended without one. The
  // data event's JSON, if any, goes to `data`.
  Expected<void> Run(std::string_view command, const Request& request, reconcile::RunContext& ctx,
                     std::string* data = nullptr) const;

  [[nodiscard]] const std::string& Binary() const { return binary_; }

 private:
  std::string binary_;
  std::vector<std::string> global_args_;
};

}  // namespace podcd::worker
