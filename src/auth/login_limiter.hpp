// Failed logins, counted per user and per client address over a sliding window: past the limit
// of either, logins of that user or from that address are refused until the window has passed
// (the password is not even checked). A login that succeeds clears its user's count, not its
// address's: one good account must not unlock guessing at the others. The table is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "util/guarded.hpp"

namespace podcd::auth {

struct LoginLimits {
  std::size_t per_user = 5;      // failures of one user in the window
  std::size_t per_address = 20;  // failures from one address in the window
  std::chrono::seconds window{std::chrono::minutes(15)};
  std::size_t max_keys = 4096;  // users and addresses remembered; the stalest go first
};

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoginLimiter(LoginLimits limits = {}) : limits_(limits) {}

  // False while the user or the address is over its limit.
  bool Allowed(std::string_view user, std::string_view address, Clock::time_point now);
  void Failed(std::string_view user, std::string_view address, Clock::time_point now);
  void Succeeded(std::string_view user);

 private:
  using Table = std::map<std::string, std::deque<Clock::time_point>, std::less<>>;
  std::size_t Count(Table& t, const std::string& key, Clock::time_point now) const;
  void Add(Table& t, const std::string& key, Clock::time_point now) const;
  LoginLimits limits_;
  Guarded<Table> table_;
};

}  // namespace podcd::auth
