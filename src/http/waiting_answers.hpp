// ?wait=SECONDS: trigger answers held until their deployment finishes or the wait ends.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/answers.hpp"
#include "state/store.hpp"

namespace podcd::http {

// The answer a waiting request gets: the record, with 202 while the deployment still runs,
// 500 when it failed, else 200.
[[nodiscard]] Answer FinalAnswer(const state::Deployment& d);

// One thread holds the waiting requests and answers each with FinalAnswer once its deployment
// is finished (it looks when Notify() says a deployment changed) or its deadline passed.
class WaitingAnswers {
 public:
  using Deliver = std::move_only_function<void(const Answer&)>;
  WaitingAnswers(state::Store& store, std::size_t max_waiting);
  ~WaitingAnswers();
  WaitingAnswers(const WaitingAnswers&) = delete;
  WaitingAnswers& operator=(const WaitingAnswers&) = delete;

  void Start();
  // Takes `deliver` and returns true, unless max_waiting requests wait already or it stopped
  // (then `deliver` is left to the caller, who answers at once).
  [[nodiscard]] bool Add(std::string deployment, std::chrono::seconds wait, Deliver&& deliver);
  void Notify();
  // Every waiting request is answered with its record as it is now; later Add()s are refused.
  void Stop();
  // Requests taken and not yet answered.
  [[nodiscard]] std::int64_t Waiting() const { return waiting_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    std::string id;
    Deliver deliver;
    Clock::time_point deadline;
  };
  void Loop();

  state::Store& store_;
  const std::size_t max_waiting_;
  std::atomic<std::int64_t> waiting_{0};
  struct State {
    std::vector<std::unique_ptr<Waiter>> waiters;
    bool wake = false;
    bool stop = false;
  };
  Guarded<State> state_;
  std::condition_variable cv_;
  std::thread thread_;  // started and taken under state_'s lock
};

}  // namespace podcd::http
