// A flood of rejected requests writes one warning a second, counting the ones left out.
#include "http/warn_throttle.hpp"

#include <catch2/catch.hpp>

using podcd::http::WarnThrottle;
using namespace std::chrono_literals;

TEST_CASE("warn throttle: the first warning is written, the next within a second are counted") {
  WarnThrottle throttle(1000ms);
  const auto t0 = WarnThrottle::Clock::time_point(100h);
  REQUIRE(throttle.Admit(t0) == std::optional<std::uint64_t>(0));
  for (int i = 0; i < 500; ++i) CHECK_FALSE(throttle.Admit(t0 + 999ms).has_value());
  // A second later: written, saying how many were left out.
  CHECK(throttle.Admit(t0 + 1000ms) == std::optional<std::uint64_t>(500));
  CHECK_FALSE(throttle.Admit(t0 + 1500ms).has_value());
  CHECK(throttle.Admit(t0 + 10s) == std::optional<std::uint64_t>(1));
  CHECK(throttle.Admit(t0 + 20s) == std::optional<std::uint64_t>(0));
}
