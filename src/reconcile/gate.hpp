// The health gate's decisions, apart from its effects: given what the applier last saw of a new
// container (its state, and a healthcheck answer when asked for one), GateStep says whether the
// gate goes on, asks for a check, passes or fails. The applier only observes and sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "util/error.hpp"

namespace podcd::reconcile {

// Healthcheck: run it through the API until healthy (Podman runs no timers without systemd).
// Settle: no healthcheck; the container must stay up for health.settle.
// ExitZero: a service others wait on with service_completed_successfully must exit 0.
enum class GateKind { kHealth, kSettle, kExitZero };

// `awaited_to_complete`: some service depends on it with service_completed_successfully.
GateKind GateKindFor(bool has_healthcheck, bool awaited_to_complete);

// One gate's fixed terms.
struct GateSpec {
  GateKind kind = GateKind::kSettle;
  std::chrono::milliseconds timeout{120'000};
  std::chrono::milliseconds settle{5'000};
  int healthy_count = 1;  // healthy answers in a row to pass
  // As Podman's timer applies them: failures in the start period do not count; `retries`
  // failures in a row fail.
  std::chrono::milliseconds start_period{0};
  int retries = 3;
  std::chrono::milliseconds sleep{250};  // between two observations
};

// The gate's terms for a service: its healthcheck interval (0: Podman's default, checked every
// second here) bounded to 100 ms..5 s; settle polls every `poll`, at most the settle time.
GateSpec MakeGateSpec(GateKind kind, std::chrono::milliseconds timeout, std::chrono::milliseconds settle,
                      int healthy_count, std::chrono::milliseconds poll,
                      std::chrono::milliseconds health_interval, std::chrono::milliseconds start_period,
                      int retries);

// What the gate counts between two observations.
struct GateState {
  std::chrono::steady_clock::time_point start;
  std::int64_t restarts = 0;  // the restart count when the gate began
  int healthy = 0;            // healthy answers in a row
  int failed_in_a_row = 0;    // counted unhealthy answers in a row
};

GateState GateStart(std::chrono::steady_clock::time_point now, std::int64_t restart_count);

struct GateObservation {
  bool stopping = false;  // podcd is stopping: fail at once, nothing else is looked at
  std::string status;     // Podman's state: running, exited, ...
  bool running = false;
  std::int64_t exit_code = 0;
  std::int64_t restart_count = 0;
  struct Health {
    std::string status;  // healthy, unhealthy, starting
    std::string output;
  };
  std::optional<Health> health;  // the answer of a check, once GateStep asked for one
};

struct GateDecision {
  enum class Verdict {
    kContinue,  // sleep spec.sleep and observe again
    kCheck,     // run the healthcheck and call GateStep again with its answer
    kPass,
    kFail,
  };
  Verdict verdict = Verdict::kContinue;
  GateState state;  // the state to carry to the next step
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;  // for kFail
};

// Pure: one step of the gate.
GateDecision GateStep(const GateSpec& spec, const GateState& state, const GateObservation& seen,
                      std::chrono::steady_clock::time_point now);

// The last `max_lines` non-empty lines of `text`, joined with " | " (a check's output, logs).
std::string JoinLines(const std::string& text, std::size_t max_lines);
// The end of `text` within `max_bytes`: "..." and the last bytes, cut at a character boundary
// (what a deployment record keeps of a container's logs).
inline constexpr std::size_t kMaxLogTailBytes = 2048;
std::string LastBytes(std::string text, std::size_t max_bytes = kMaxLogTailBytes);

}  // namespace podcd::reconcile
