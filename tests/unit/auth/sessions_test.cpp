// Sessions (expiry, fixation, CSRF) and the failed-login limiter, on a clock the test moves.
#include <catch2/catch.hpp>
#include <set>

#include "auth/login_limiter.hpp"
#include "auth/sessions.hpp"

using namespace podcd::auth;
using namespace std::chrono_literals;

namespace {
const Clock::time_point kT0 = Clock::time_point(1000h);
}

TEST_CASE("sessions: random ids and CSRF tokens; a live session is found and seen") {
  Sessions table;
  auto a = table.Create("alice", Role::kAdmin, kT0);
  auto b = table.Create("alice", Role::kAdmin, kT0);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->id.size() == 64);
  CHECK(a->csrf.size() == 64);
  CHECK(a->id != b->id);
  CHECK(a->csrf != a->id);
  auto found = table.Touch(a->id, kT0 + 1min);
  REQUIRE(found.has_value());
  CHECK(found->user == "alice");
  CHECK(found->role == Role::kAdmin);
  CHECK(found->last_seen == kT0 + 1min);
  // An id nobody was given (a cookie planted before the login) finds nothing: no fixation.
  CHECK_FALSE(table.Touch(std::string(64, 'a'), kT0).has_value());
  CHECK_FALSE(table.Touch("", kT0).has_value());
}

TEST_CASE("sessions: idle and absolute expiry; logout; a user's sessions end together") {
  Sessions table(SessionPolicy{30min, 2h, 100});
  auto s = table.Create("alice", Role::kAdmin, kT0);
  REQUIRE(s.has_value());
  // Seen every 20 minutes it stays, until two hours after the login.
  Clock::time_point t = kT0;
  for (int i = 0; i < 5; ++i) {
    t += 20min;
    CHECK(table.Touch(s->id, t).has_value());
  }
  CHECK_FALSE(table.Touch(s->id, kT0 + 2h).has_value());
  CHECK(table.Size() == 0);
  // Idle for 30 minutes: gone, and it stays gone.
  auto idle = table.Create("bob", Role::kUser, kT0);
  REQUIRE(idle.has_value());
  CHECK(table.Touch(idle->id, kT0 + 29min).has_value());
  CHECK_FALSE(table.Touch(idle->id, kT0 + 59min).has_value());
  CHECK_FALSE(table.Touch(idle->id, kT0 + 60min).has_value());
  // Logout.
  auto out = table.Create("carol", Role::kUser, kT0);
  table.Remove(out->id);
  CHECK_FALSE(table.Touch(out->id, kT0).has_value());
  // A user removed from the users file loses every session.
  auto d1 = table.Create("dave", Role::kAdmin, kT0);
  auto d2 = table.Create("dave", Role::kAdmin, kT0);
  auto e = table.Create("erin", Role::kAdmin, kT0);
  table.RemoveUser("dave");
  CHECK_FALSE(table.Touch(d1->id, kT0).has_value());
  CHECK_FALSE(table.Touch(d2->id, kT0).has_value());
  CHECK(table.Touch(e->id, kT0).has_value());
}

TEST_CASE("sessions: the table is bounded; the least recently seen goes first") {
  Sessions table(SessionPolicy{30min, 12h, 3});
  auto a = table.Create("a", Role::kUser, kT0);
  auto b = table.Create("b", Role::kUser, kT0 + 1s);
  auto c = table.Create("c", Role::kUser, kT0 + 2s);
  CHECK(table.Touch(a->id, kT0 + 3s).has_value());  // a seen last: b is the stalest now
  auto d = table.Create("d", Role::kUser, kT0 + 4s);
  CHECK(table.Size() == 3);
  CHECK_FALSE(table.Touch(b->id, kT0 + 5s).has_value());
  CHECK(table.Touch(a->id, kT0 + 5s).has_value());
  CHECK(table.Touch(c->id, kT0 + 5s).has_value());
  CHECK(table.Touch(d->id, kT0 + 5s).has_value());
}

TEST_CASE("sessions: the CSRF token must match exactly") {
  Sessions table;
  auto s = table.Create("alice", Role::kAdmin, kT0);
  REQUIRE(s.has_value());
  CHECK(CsrfMatches(*s, s->csrf));
  CHECK_FALSE(CsrfMatches(*s, ""));
  CHECK_FALSE(CsrfMatches(*s, s->id));
  CHECK_FALSE(CsrfMatches(*s, s->csrf.substr(1)));
  CHECK_FALSE(CsrfMatches(*s, s->csrf + "0"));
  auto other = table.Create("alice", Role::kAdmin, kT0);
  CHECK_FALSE(CsrfMatches(*s, other->csrf));
}

TEST_CASE("login limiter: failures per user and per address, within the window") {
  LoginLimiter limiter(LoginLimits{3, 5, 10min, 100});
  for (int i = 0; i < 3; ++i) {
    CHECK(limiter.Allowed("alice", "10.0.0.1", kT0));
    limiter.Failed("alice", "10.0.0.1", kT0);
  }
  // alice is locked from everywhere; others from that address are not (yet).
  CHECK_FALSE(limiter.Allowed("alice", "10.0.0.1", kT0));
  CHECK_FALSE(limiter.Allowed("alice", "10.0.0.2", kT0));
  CHECK(limiter.Allowed("bob", "10.0.0.1", kT0));
  limiter.Failed("bob", "10.0.0.1", kT0);
  limiter.Failed("carol", "10.0.0.1", kT0);
  // Five failures from 10.0.0.1: nobody logs in from there.
  CHECK_FALSE(limiter.Allowed("dave", "10.0.0.1", kT0));
  CHECK(limiter.Allowed("dave", "10.0.0.2", kT0));
  // The window passes.
  CHECK(limiter.Allowed("alice", "10.0.0.1", kT0 + 10min));
  CHECK(limiter.Allowed("dave", "10.0.0.1", kT0 + 10min));
}

TEST_CASE("login limiter: a success clears the user's failures, not the address's; the table is bounded") {
  LoginLimiter limiter(LoginLimits{3, 4, 10min, 8});
  limiter.Failed("alice", "10.0.0.1", kT0);
  limiter.Failed("alice", "10.0.0.1", kT0);
  limiter.Failed("mallory", "10.0.0.1", kT0);
  limiter.Succeeded("alice");
  limiter.Failed("alice", "10.0.0.1", kT0);
  CHECK(limiter.Allowed("alice", "10.0.0.9", kT0));      // one failure since the success
  CHECK_FALSE(limiter.Allowed("bob", "10.0.0.1", kT0));  // four from the address
  // Many keys: the table stays bounded and still counts the newest.
  for (int i = 0; i < 1000; ++i)
    limiter.Failed("user" + std::to_string(i), "192.0.2." + std::to_string(i % 250), kT0 + 1s);
  limiter.Failed("zed", "198.51.100.1", kT0 + 2s);
  limiter.Failed("zed", "198.51.100.1", kT0 + 2s);
  limiter.Failed("zed", "198.51.100.1", kT0 + 2s);
  CHECK_FALSE(limiter.Allowed("zed", "198.51.100.2", kT0 + 2s));
}
