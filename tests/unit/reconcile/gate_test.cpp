// GateStep, the health gate's decisions, table-driven: no runtime, no clock.
#include "reconcile/gate.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::reconcile;
using namespace std::chrono_literals;
using Verdict = GateDecision::Verdict;

namespace {

const std::chrono::steady_clock::time_point kT0{std::chrono::hours(1)};

GateSpec Spec(GateKind kind) { return MakeGateSpec(kind, 10'000ms, 1'000ms, 1, 250ms, 1'000ms, 0ms, 3); }

GateObservation Running() {
  GateObservation o;
  o.status = "running";
  o.running = true;
  return o;
}

GateObservation Exited(std::int64_t code) {
  GateObservation o;
  o.status = "exited";
  o.exit_code = code;
  return o;
}

GateObservation Answer(std::string status, std::string output = "") {
  GateObservation o = Running();
  o.health = GateObservation::Health{std::move(status), std::move(output)};
  return o;
}

}  // namespace

TEST_CASE("gate kind: exit 0 when awaited to complete, else the healthcheck, else settle") {
  CHECK(GateKindFor(true, false) == GateKind::kHealth);
  CHECK(GateKindFor(false, false) == GateKind::kSettle);  // healthcheck disabled or none
  CHECK(GateKindFor(true, true) == GateKind::kExitZero);
  CHECK(GateKindFor(false, true) == GateKind::kExitZero);
}

TEST_CASE("gate spec: how long the applier sleeps between two observations") {
  struct Row {
    GateKind kind;
    std::chrono::milliseconds settle, poll, interval, sleep;
  };
  const Row rows[] = {
      {GateKind::kHealth, 1000ms, 250ms, 0ms, 1000ms},       // no interval: every second
      {GateKind::kHealth, 1000ms, 250ms, 30ms, 100ms},       // at least 100 ms
      {GateKind::kHealth, 1000ms, 250ms, 30'000ms, 5000ms},  // at most 5 s
      {GateKind::kHealth, 1000ms, 250ms, 2000ms, 2000ms},   {GateKind::kSettle, 1000ms, 250ms, 2000ms, 250ms},
      {GateKind::kSettle, 100ms, 250ms, 2000ms, 100ms},  // never past the settle time
      {GateKind::kExitZero, 100ms, 250ms, 2000ms, 250ms},
  };
  for (const auto& r : rows) {
    INFO(static_cast<int>(r.kind) << " interval " << r.interval.count());
    CHECK(MakeGateSpec(r.kind, 10s, r.settle, 1, r.poll, r.interval, 0ms, 3).sleep == r.sleep);
  }
}

TEST_CASE("gate step: one observation, one decision") {
  struct Row {
    const char* name;
    GateKind kind;
    GateState state;
    GateObservation seen;
    std::chrono::milliseconds at;  // since the gate began
    Verdict verdict;
    std::string reason;  // kFail: the reason
    ErrorCode code = ErrorCode::kInternal;
  };
  const GateState fresh = GateStart(kT0, 0);
  GateState two_failed = fresh;
  two_failed.failed_in_a_row = 2;
  GateState restarted_before = GateStart(kT0, 4);
  GateObservation stopping;
  stopping.stopping = true;
  GateObservation restarted = Running();
  restarted.restart_count = 1;
  GateObservation created = Running();
  created.running = false;
  created.status = "created";
  GateObservation still_restarted = Running();
  still_restarted.restart_count = 4;
  const Row rows[] = {
      {"stopping fails at once", GateKind::kHealth, fresh, stopping, 0ms, Verdict::kFail, "podcd is stopping",
       ErrorCode::kUnavailable},
      {"settle: running, not long enough", GateKind::kSettle, fresh, Running(), 999ms, Verdict::kContinue,
       ""},
      {"settle: up for the settle time", GateKind::kSettle, fresh, Running(), 1000ms, Verdict::kPass, ""},
      {"settle: exited", GateKind::kSettle, fresh, Exited(3), 10ms, Verdict::kFail,
       "container exited with code 3"},
      {"settle: not running, not exited", GateKind::kSettle, fresh, created, 10ms, Verdict::kFail,
       "container created"},
      {"settle: restarted", GateKind::kSettle, fresh, restarted, 10ms, Verdict::kFail, "container restarted"},
      {"settle: restarts counted from the gate's start", GateKind::kSettle, restarted_before, still_restarted,
       10ms, Verdict::kContinue, ""},
      {"health: running, asks for a check", GateKind::kHealth, fresh, Running(), 10ms, Verdict::kCheck, ""},
      {"health: exited before any check", GateKind::kHealth, fresh, Exited(1), 10ms, Verdict::kFail,
       "container exited with code 1"},
      {"health: healthy", GateKind::kHealth, fresh, Answer("healthy"), 10ms, Verdict::kPass, ""},
      {"health: starting", GateKind::kHealth, fresh, Answer("starting"), 10ms, Verdict::kContinue, ""},
      {"health: unhealthy, counted", GateKind::kHealth, fresh, Answer("unhealthy"), 10ms, Verdict::kContinue,
       ""},
      {"health: the third unhealthy in a row", GateKind::kHealth, two_failed,
       Answer("unhealthy", "a\nb\nc\nconnection refused\n"), 10ms, Verdict::kFail,
       "healthcheck unhealthy (3 checks in a row): b | c | connection refused"},
      {"health: timeout", GateKind::kHealth, fresh, Answer("starting"), 10'000ms, Verdict::kFail,
       "not healthy within 10 s", ErrorCode::kTimeout},
      {"settle: up for the settle time at the timeout: passes", GateKind::kSettle, fresh, Running(), 10'000ms,
       Verdict::kPass, ""},
      {"exit 0: still running", GateKind::kExitZero, fresh, Running(), 10ms, Verdict::kContinue, ""},
      {"exit 0: exited 0", GateKind::kExitZero, fresh, Exited(0), 10ms, Verdict::kPass, ""},
      {"exit 0: exited 2", GateKind::kExitZero, fresh, Exited(2), 10ms, Verdict::kFail, "exited with code 2"},
      {"exit 0: created, not yet exited", GateKind::kExitZero, fresh, created, 10ms, Verdict::kContinue, ""},
      {"exit 0: timeout", GateKind::kExitZero, fresh, Running(), 10'000ms, Verdict::kFail,
       "did not exit within 10 s", ErrorCode::kTimeout},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    const GateDecision d = GateStep(Spec(r.kind), r.state, r.seen, kT0 + r.at);
    CHECK(d.verdict == r.verdict);
    if (r.verdict == Verdict::kFail) {
      CHECK(d.reason == r.reason);
      CHECK(d.code == r.code);
    }
  }
}

TEST_CASE("gate step: settle longer than the timeout fails at the timeout") {
  GateSpec spec = MakeGateSpec(GateKind::kSettle, 2'000ms, 5'000ms, 1, 250ms, 0ms, 0ms, 3);
  auto d = GateStep(spec, GateStart(kT0, 0), Running(), kT0 + 2'000ms);
  CHECK(d.verdict == Verdict::kFail);
  CHECK(d.code == ErrorCode::kTimeout);
  CHECK(d.reason == "not healthy within 2 s");
}

namespace {
// Drives GateStep over scripted healthcheck answers, one per `interval`, as the applier would.
GateDecision RunGate(const GateSpec& spec, const std::vector<std::string>& answers) {
  GateState state = GateStart(kT0, 0);
  auto now = kT0;
  for (std::size_t i = 0;; ++i) {
    GateObservation seen = Running();
    GateDecision d = GateStep(spec, state, seen, now);
    REQUIRE(d.verdict == Verdict::kCheck);
    seen.health = GateObservation::Health{answers[std::min(i, answers.size() - 1)], "refused"};
    d = GateStep(spec, state, seen, now);
    if (d.verdict != Verdict::kContinue) return d;
    state = d.state;
    now += spec.sleep;
  }
}
}  // namespace

TEST_CASE("gate step: retries, start period and healthy_count, like Podman's timer") {
  struct Row {
    std::vector<std::string> answers;
    int retries;
    std::chrono::milliseconds start_period;
    int healthy_count;
    Verdict verdict;
    std::string reason;
  };
  const Row rows[] = {
      {{"unhealthy", "unhealthy", "healthy"}, 3, 0ms, 1, Verdict::kPass, ""},
      {{"unhealthy", "unhealthy", "healthy"},
       2,
       0ms,
       1,
       Verdict::kFail,
       "healthcheck unhealthy (2 checks in a row): refused"},
      {{"unhealthy"}, 0, 0ms, 1, Verdict::kFail, "healthcheck unhealthy (1 checks in a row): refused"},
      // Failures inside start_period do not count.
      {{"unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"}, 1, 5s, 1, Verdict::kPass, ""},
      {{"unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"},
       1,
       0ms,
       1,
       Verdict::kFail,
       "healthcheck unhealthy (1 checks in a row): refused"},
      // An unhealthy answer resets the healthy run, not the verdict.
      {{"healthy", "unhealthy", "healthy", "healthy"}, 3, 0ms, 2, Verdict::kPass, ""},
      // Never healthy: the timeout (10 s at 1 s intervals).
      {{"starting"}, 3, 0ms, 1, Verdict::kFail, "not healthy within 10 s"},
  };
  for (const auto& r : rows) {
    INFO(r.answers.size() << " answers, retries " << r.retries);
    const auto spec =
        MakeGateSpec(GateKind::kHealth, 10s, 1s, r.healthy_count, 250ms, 1s, r.start_period, r.retries);
    auto d = RunGate(spec, r.answers);
    CHECK(d.verdict == r.verdict);
    CHECK(d.reason == r.reason);
  }
}

TEST_CASE("LastBytes keeps the end of a log within its bound, whole characters only") {
  CHECK(LastBytes("short", 10) == "short");
  CHECK(LastBytes(std::string(5000, 'x')).size() == kMaxLogTailBytes);
  CHECK(LastBytes("abcdefghij", 8) == "...fghij");
  // "é" is two bytes: a cut inside it moves past it.
  CHECK(LastBytes("abc\xc3\xa9"
                  "def",
                  7) == "...def");
}

TEST_CASE("JoinLines keeps the last lines, without empty ones") {
  CHECK(JoinLines("a\n\nb\nc\n", 2) == "b | c");
  CHECK(JoinLines("one", 3) == "one");
  CHECK(JoinLines("", 3).empty());
}
