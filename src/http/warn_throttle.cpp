#include "http/warn_throttle.hpp"

namespace podcd::http {

std::optional<std::uint64_t> WarnThrottle::Admit(Clock::time_point now) {
  auto s = state_.Lock();
  if (s->last && now - *s->last < every_) {
    ++s->left_out;
    return std::nullopt;
  }
  s->last = now;
  const std::uint64_t left_out = s->left_out;
  s->left_out = 0;
  return left_out;
}

}  // namespace podcd::http
