#include "auth/login_limiter.hpp"

#include <algorithm>

namespace podcd::auth {
namespace {

std::string UserKey(std::string_view user) { return "u:" + std::string(user); }
std::string AddressKey(std::string_view address) { return "a:" + std::string(address); }

}  // namespace

std::size_t LoginLimiter::Count(Table& t, const std::string& key, Clock::time_point now) const {
  auto it = t.find(key);
  if (it == t.end()) return 0;
  auto& times = it->second;
  while (!times.empty() && now - times.front() >= limits_.window) times.pop_front();
  if (times.empty()) {
    t.erase(it);
    return 0;
  }
  return times.size();
}

void LoginLimiter::Add(Table& t, const std::string& key, Clock::time_point now) const {
  if (!t.contains(key)) {
    while (!t.empty() && t.size() >= std::max<std::size_t>(1, limits_.max_keys)) {
      auto stalest = std::min_element(t.begin(), t.end(), [](const auto& a, const auto& b) {
        return (a.second.empty() ? Clock::time_point{} : a.second.back()) <
               (b.second.empty() ? Clock::time_point{} : b.second.back());
      });
      t.erase(stalest);
    }
  }
  auto& times = t[key];
  times.push_back(now);
  // No more than the limit needs: a flood from one key costs no memory.
  const std::size_t keep = std::max(limits_.per_user, limits_.per_address) + 1;
  while (times.size() > keep) times.pop_front();
}

bool LoginLimiter::Allowed(std::string_view user, std::string_view address, Clock::time_point now) {
  auto t = table_.Lock();
  return Count(*t, UserKey(user), now) < limits_.per_user &&
         Count(*t, AddressKey(address), now) < limits_.per_address;
}

void LoginLimiter::Failed(std::string_view user, std::string_view address, Clock::time_point now) {
  auto t = table_.Lock();
  Add(*t, UserKey(user), now);
  Add(*t, AddressKey(address), now);
}

void LoginLimiter::Succeeded(std::string_view user) {
  auto t = table_.Lock();
  if (auto it = t->find(UserKey(user)); it != t->end()) t->erase(it);
}

}  // namespace podcd::auth
