#include "reconcile/schedule.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace podcd::reconcile {

StackSchedule ScheduleStacks(const std::vector<const StackJob*>& jobs) {
  const std::size_t n = jobs.size();
  std::map<std::string, std::set<std::size_t>> creators;  // network name -> jobs creating it
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& net : jobs[i]->networks) creators[net.name].insert(i);
  }
  std::vector<std::set<std::size_t>> needs(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& name : jobs[i]->external_networks) {
      if (auto it = creators.find(name); it != creators.end()) {
        for (auto j : it->second) {
          if (j != i) needs[i].insert(j);
        }
      }
    }
  }
  // Kahn's algorithm, ties in the given order; what is left (cycles) follows in the given order.
  std::vector<std::size_t> order;
  std::vector<bool> placed(n, false);
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      if (std::all_of(needs[i].begin(), needs[i].end(), [&](auto j) { return placed[j]; })) {
        placed[i] = true;
        order.push_back(i);
        progress = true;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!placed[i]) order.push_back(i);
  }
  StackSchedule s;
  s.order = order;
  std::vector<std::size_t> position(n);
  for (std::size_t p = 0; p < n; ++p) position[order[p]] = p;
  s.after.resize(n);
  for (std::size_t p = 0; p < n; ++p) {
    for (auto j : needs[order[p]]) {
      if (position[j] < p) s.after[p].push_back(position[j]);
    }
    std::sort(s.after[p].begin(), s.after[p].end());
  }
  return s;
}

void RunScheduled(const StackSchedule& schedule, std::size_t parallel,
                  const std::function<void(std::size_t position)>& run) {
  const std::size_t n = schedule.order.size();
  enum class State { kWaiting, kRunning, kDone };
  std::vector<State> state(n, State::kWaiting);
  std::mutex m;
  std::condition_variable cv;
  auto worker = [&] {
    std::unique_lock lock(m);
    for (;;) {
      // Waits only ever point to earlier positions, so the first waiting one whose waits are
      // done exists unless every waiting one needs a running one, which will finish.
      std::size_t pick = n;
      bool waiting = false;
      for (std::size_t p = 0; p < n && pick == n; ++p) {
        if (state[p] != State::kWaiting) continue;
        waiting = true;
        const auto& after = schedule.after[p];
        if (std::all_of(after.begin(), after.end(), [&](auto q) { return state[q] == State::kDone; }))
          pick = p;
      }
      if (!waiting) return;
      if (pick == n) {
        cv.wait(lock);
        continue;
      }
      state[pick] = State::kRunning;
      lock.unlock();
      run(pick);
      lock.lock();
      state[pick] = State::kDone;
      cv.notify_all();
    }
  };
  const std::size_t threads = std::clamp<std::size_t>(parallel, 1, std::max<std::size_t>(n, 1));
  if (threads == 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

}  // namespace podcd::reconcile
