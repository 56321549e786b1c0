// GET /health, /metrics and /stacks answered off the reactor threads (they can wait on Podman).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/answers.hpp"
#include "http/catalog.hpp"
#include "state/store.hpp"

namespace podcd::http {

// One answer computed on a thread of its own and shared: the requests that come while an
// answer is computed all get the next one, computed after they came.
class SharedAnswer {
 public:
  using Deliver = std::move_only_function<void(const Answer&)>;
  SharedAnswer(std::string name, std::function<Answer()> compute);
  ~SharedAnswer();
  SharedAnswer(const SharedAnswer&) = delete;
  SharedAnswer& operator=(const SharedAnswer&) = delete;

  void Start();  // idempotent
  // Takes `deliver` for the next answer and returns true; once stopped, leaves it and returns false.
  [[nodiscard]] bool Request(Deliver&& deliver);
  // The requests already taken are answered; the thread ends once none wait. Idempotent.
  void Stop();

 private:
  void Loop();

  const std::string name_;  // the route, in the log when `compute` throws
  const std::function<Answer()> compute_;
  struct State {
    std::vector<Deliver> pending;
    bool stop = false;
  };
  Guarded<State> state_;
  std::condition_variable cv_;
  std::thread thread_;  // started and taken under state_'s lock
};

// The three slow answers of the server. The daemon owns them (a server built without them
// makes its own); the server starts them with itself and stops them in its drain.
class DeferredAnswers {
 public:
  enum class Route { kHealth, kMetrics, kStacks };
  // `health` may be null (always healthy); `version` goes into /health's answer ("" leaves it out).
  DeferredAnswers(state::Store& store, StackCatalog& catalog, HealthProbe* health, std::string version);

  void Start();
  [[nodiscard]] bool Request(Route route, SharedAnswer::Deliver&& deliver);
  void Stop();

 private:
  Answer Health();
  Answer Stacks();

  state::Store& store_;
  StackCatalog& catalog_;
  HealthProbe* health_probe_;
  const std::string version_;
  SharedAnswer health_;
  SharedAnswer metrics_;
  SharedAnswer stacks_;
};

}  // namespace podcd::http
