#include "reconcile/gate.hpp"

#include <algorithm>
#include <vector>

namespace podcd::reconcile {

using Ms = std::chrono::milliseconds;
using Verdict = GateDecision::Verdict;

GateKind GateKindFor(bool has_healthcheck, bool awaited_to_complete) {
  if (awaited_to_complete) return GateKind::kExitZero;
  return has_healthcheck ? GateKind::kHealth : GateKind::kSettle;
}

GateSpec MakeGateSpec(GateKind kind, Ms timeout, Ms settle, int healthy_count, Ms poll, Ms health_interval,
                      Ms start_period, int retries) {
  GateSpec spec;
  spec.kind = kind;
  spec.timeout = timeout;
  spec.settle = settle;
  spec.healthy_count = healthy_count;
  spec.start_period = start_period;
  spec.retries = retries;
  if (kind == GateKind::kHealth) {
    spec.sleep = health_interval.count() == 0 ? Ms(1000) : std::clamp(health_interval, Ms(100), Ms(5000));
  } else if (kind == GateKind::kSettle) {
    spec.sleep = std::min(poll, settle);
  } else {
    spec.sleep = poll;
  }
  return spec;
}

GateState GateStart(std::chrono::steady_clock::time_point now, std::int64_t restart_count) {
  GateState state;
  state.start = now;
  state.restarts = restart_count;
  return state;
}

namespace {

GateDecision Decide(Verdict verdict, const GateState& state) {
  return {verdict, state, ErrorCode::kInternal, ""};
}

GateDecision Failed(const GateState& state, std::string reason, ErrorCode code = ErrorCode::kInternal) {
  return {Verdict::kFail, state, code, std::move(reason)};
}

std::string Stopped(const GateObservation& seen) {
  return "container " + seen.status +
         (seen.status == "exited" ? " with code " + std::to_string(seen.exit_code) : "");
}

// A healthcheck answer: healthy ones pass after healthy_count in a row; unhealthy ones after
// the start period count towards `retries`; "starting" changes nothing but the healthy run.
GateDecision HealthAnswer(const GateSpec& spec, GateState state, const GateObservation::Health& health,
                          std::chrono::steady_clock::time_point now) {
  if (health.status == "healthy") {
    state.failed_in_a_row = 0;
    if (++state.healthy >= spec.healthy_count) return Decide(Verdict::kPass, state);
    return Decide(Verdict::kContinue, state);
  }
  state.healthy = 0;
  const bool starting = now - state.start < spec.start_period;
  if (health.status == "unhealthy" && !starting && ++state.failed_in_a_row >= std::max(1, spec.retries)) {
    return Failed(state, "healthcheck unhealthy (" + std::to_string(state.failed_in_a_row) +
                             " checks in a row)" +
                             (health.output.empty() ? "" : ": " + JoinLines(health.output, 3)));
  }
  return Decide(Verdict::kContinue, state);
}

}  // namespace

GateDecision GateStep(const GateSpec& spec, const GateState& state, const GateObservation& seen,
                      std::chrono::steady_clock::time_point now) {
  if (seen.stopping) return Failed(state, "podcd is stopping", ErrorCode::kUnavailable);
  GateDecision d = Decide(Verdict::kContinue, state);
  if (spec.kind == GateKind::kExitZero) {
    if (!seen.running && seen.status == "exited") {
      if (seen.exit_code == 0) return Decide(Verdict::kPass, state);
      return Failed(state, "exited with code " + std::to_string(seen.exit_code));
    }
  } else {
    if (!seen.running) return Failed(state, Stopped(seen));
    if (seen.restart_count != state.restarts) return Failed(state, "container restarted");
    if (spec.kind == GateKind::kSettle) {
      if (now - state.start >= spec.settle) return Decide(Verdict::kPass, state);
    } else if (!seen.health) {
      return Decide(Verdict::kCheck, state);
    } else {
      d = HealthAnswer(spec, state, *seen.health, now);
      if (d.verdict != Verdict::kContinue) return d;
    }
  }
  if (now >= state.start + spec.timeout) {
    return Failed(d.state,
                  std::string(spec.kind == GateKind::kExitZero ? "did not exit" : "not healthy") +
                      " within " + std::to_string(spec.timeout.count() / 1000) + " s",
                  ErrorCode::kTimeout);
  }
  return d;
}

std::string JoinLines(const std::string& text, std::size_t max_lines) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() > max_lines) lines.erase(lines.begin(), lines.end() - static_cast<long>(max_lines));
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

std::string LastBytes(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t from = text.size() - max_bytes + 3;  // room for "..."
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  return "..." + text.substr(from);
}

}  // namespace podcd::reconcile
