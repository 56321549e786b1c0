// podcd-serve-test: podcd-serve with a test hook, built only with the tests and never
// installed. With PODCD_TEST_PLACEHOLDER_DELAY_MS set, runs record that nothing was
// reconciled (each named stack `skipped`) and take that long, so the tests of shutdown during a run need no
// Podman or repository. The released podcd-serve has no such hook (serve_binary_test checks it).
// With PODCD_TEST_OUTCOMES naming a file as well, each run reads it afresh and reports what it
// says: a line "commit SHA", lines "start STACK" (the stack starts being applied), lines
// "STACK OUTCOME [REASON...]" (a failing outcome fails the run), and "fail REASON" to fail the
// run before any stack (notify_test scripts runs so).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "daemon/serve.hpp"
#include "reconcile/queue.hpp"
#include "util/strings.hpp"

namespace {

constexpr const char* kDelayVariable = "PODCD_TEST_PLACEHOLDER_DELAY_MS";
constexpr const char* kOutcomesVariable = "PODCD_TEST_OUTCOMES";

// The script's verdict for one run (see the top of this file); success when there is none.
podcd::Expected<void> ScriptedOutcomes(podcd::reconcile::RunContext& ctx) {
  const char* file = std::getenv(kOutcomesVariable);
  if (file == nullptr) return {};
  auto text = podcd::ReadFile(file);
  if (!text) return podcd::Fail(podcd::ErrorCode::kIo, "test outcomes: " + text.error().What());
  int failed = 0;
  for (auto line : podcd::SplitLines(*text)) {
    line = podcd::Trim(line);
    const auto space = line.find(' ');
    const std::string first(line.substr(0, space));
    const std::string_view rest = space == std::string_view::npos ? "" : podcd::Trim(line.substr(space + 1));
    if (first.empty()) continue;
    if (first == "commit") {
      ctx.SetCommit(std::string(rest));
    } else if (first == "start") {
      ctx.StackStarted(std::string(rest));
    } else if (first == "fail") {
      return podcd::Fail(podcd::ErrorCode::kUnavailable, std::string(rest));
    } else {
      const auto gap = rest.find(' ');
      podcd::state::StackOutcome o;
      o.name = first;
      o.outcome = std::string(rest.substr(0, gap));
      o.reason = gap == std::string_view::npos ? "" : std::string(rest.substr(gap + 1));
      if (o.outcome == "failed" || o.outcome == "rolled-back" || o.outcome == "refused" ||
          o.outcome == "invalid")
        ++failed;
      ctx.SetStackOutcome(std::move(o));
    }
  }
  if (failed > 0)
    return podcd::Fail(podcd::ErrorCode::kUnavailable, std::to_string(failed) + " stack(s) failed");
  return {};
}

class PlaceholderExecutor final : public podcd::reconcile::Executor {
 public:
  explicit PlaceholderExecutor(std::chrono::milliseconds delay) : delay_(delay) {}
  podcd::Expected<void> Run(const podcd::state::Trigger& trigger,
                            podcd::reconcile::RunContext& ctx) override {
    ctx.Log("test placeholder executor: podcd " + trigger.KindWord() +
            " was accepted and recorded, but nothing was synced, pulled or deployed");
    auto end = std::chrono::steady_clock::now() + delay_;
    while (std::chrono::steady_clock::now() < end) {
      if (ctx.StopRequested()) return podcd::Fail(podcd::ErrorCode::kUnavailable, "interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (std::getenv(kOutcomesVariable) != nullptr) return ScriptedOutcomes(ctx);
    for (const auto& stack : trigger.stacks)
      ctx.SetStackOutcome({stack, "skipped", "test placeholder: nothing was deployed", 0});
    return {};
  }

 private:
  std::chrono::milliseconds delay_;
};

int ServeForTests(const podcd::cli::GlobalOptions& g, const podcd::cli::Args& args) {
  std::unique_ptr<podcd::reconcile::Executor> executor;
  if (const char* v = std::getenv(kDelayVariable)) {
    std::chrono::milliseconds delay{0};
    if (auto n = podcd::ParseInt(v); n && *n > 0) delay = std::chrono::milliseconds(*n);
    executor = std::make_unique<PlaceholderExecutor>(delay);
  }
  return podcd::daemon::ServeWithTestExecutor(g, args, std::move(executor));
}

constexpr podcd::cli::Command kCommands[] = {
    {"serve", "run the daemon with the test hook (PODCD_TEST_PLACEHOLDER_DELAY_MS)", ServeForTests},
};

}  // namespace

int main(int argc, char** argv) {
  try {
    return podcd::cli::Dispatch(argc, argv, kCommands);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "podcd-serve-test: fatal: %s\n", e.what());
    return 1;
  }
}
