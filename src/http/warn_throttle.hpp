// At most one warning line a second for a kind of rejected request: a flood of bad signatures
// must not turn into a flood of log lines (each costs more than the rejection itself). The
// line that is written says how many were left out before it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "util/guarded.hpp"

namespace podcd::http {

class WarnThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WarnThrottle(std::chrono::milliseconds every = std::chrono::seconds(1)) : every_(every) {}

  // The number of warnings left out since the last one written when this one is to be
  // written; nullopt when it is to be left out.
  std::optional<std::uint64_t> Admit(Clock::time_point now);

 private:
  struct State {
    std::optional<Clock::time_point> last;
    std::uint64_t left_out = 0;
  };
  std::chrono::milliseconds every_;
  Guarded<State> state_;
};

}  // namespace podcd::http
