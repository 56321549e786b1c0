// Work that must not run on a reactor thread (a login's Argon2id, a page that waits on a worker):
// one thread of its own, a bounded queue, jobs run in the order they came.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "util/guarded.hpp"

namespace podcd::http {

class Background {
 public:
  using Job = std::move_only_function<void()>;
  // `name` is the thread's name in logs; at most `max_pending` jobs wait.
  Background(std::string name, std::size_t max_pending);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  void Start();  // idempotent
  // False, leaving `job` untouched, when the queue is full or stopped: the caller answers 503.
  [[nodiscard]] bool Submit(Job& job);
  // The jobs already taken are run; then the thread ends. Idempotent.
  void Stop();

 private:
  void Loop();
  const std::string name_;
  const std::size_t max_pending_;
  struct State {
    std::deque<Job> jobs;
    bool stop = false;
  };
  Guarded<State> state_;
  std::condition_variable cv_;
  std::thread thread_;  // started and taken under state_'s lock
};

}  // namespace podcd::http
