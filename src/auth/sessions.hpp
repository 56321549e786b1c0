// Login sessions of the dashboard, in the daemon's memory: a random id for the cookie, a CSRF
// token for forms, idle and absolute expiry. An id only ever comes from Create (a login), so a
// session id planted before the login is never adopted (no fixation).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/users.hpp"
#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::auth {

using Clock = std::chrono::steady_clock;

struct SessionPolicy {
  std::chrono::seconds idle{std::chrono::minutes(30)};
  std::chrono::seconds absolute{std::chrono::hours(12)};
  std::size_t max_sessions = 10000;  // the oldest goes first when full
};

struct Session {
  std::string id;    // 64 hex digits: the cookie's value
  std::string csrf;  // 64 hex digits: every state-changing form carries it
  std::string user;
  Role role = Role::kUser;
  Clock::time_point created;
  Clock::time_point last_seen;
};

class Sessions {
 public:
  explicit Sessions(SessionPolicy policy = {}) : policy_(policy) {}

  // A new session for a user who just logged in.
  Expected<Session> Create(std::string user, Role role, Clock::time_point now);
  // The live session with this id, seen now; nullopt (and forgotten) once idle or too old.
  std::optional<Session> Touch(std::string_view id, Clock::time_point now);
  void Remove(std::string_view id);
  // Every session of a user (removed from the users file, or whose role changed).
  void RemoveUser(std::string_view user);
  std::size_t Size() const;

 private:
  SessionPolicy policy_;
  Guarded<std::map<std::string, Session, std::less<>>> table_;
};

// True when `presented` is the session's CSRF token; compared in constant time.
bool CsrfMatches(const Session& session, std::string_view presented);

}  // namespace podcd::auth
