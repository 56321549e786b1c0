#include "reconcile/schedule.hpp"

#include <algorithm>
#include <condition_variable>
#include <thread>

#include "util/guarded.hpp"

namespace podcd::reconcile {

StackSchedule ScheduleStacks(const std::vector<const StackJob*>& jobs) {
  std::vector<StackNetworks> stacks;
  for (const auto* job : jobs) {
    StackNetworks n;
    for (const auto& net : job->networks) n.creates.push_back(net.name);
    n.uses = job->external_networks;
    stacks.push_back(std::move(n));
  }
  return ScheduleStacks(stacks);
}

void RunScheduled(const StackSchedule& schedule, std::size_t parallel,
                  const std::function<void(std::size_t position)>& run) {
  const std::size_t n = schedule.order.size();
  enum class State { kWaiting, kRunning, kDone };
  Guarded<std::vector<State>> states(n, State::kWaiting);
  std::condition_variable cv;
  auto worker = [&] {
    auto locked = states.Lock();
    auto& state = *locked;
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
        locked.Wait(cv);
        continue;
      }
      state[pick] = State::kRunning;
      locked.Unlocked([&] { run(pick); });
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
