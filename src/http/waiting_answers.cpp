#include "http/waiting_answers.hpp"

#include <algorithm>

namespace podcd::http {

Answer FinalAnswer(const state::Deployment& d) {
  int status = 200;
  if (!state::IsFinished(d.state)) {
    status = 202;
  } else if (d.state == state::DeploymentState::kFailed) {
    status = 500;
  }
  return {status, state::ToJson(d)};
}

WaitingAnswers::WaitingAnswers(state::Store& store, std::size_t max_waiting)
    : store_(store), max_waiting_(max_waiting) {}

WaitingAnswers::~WaitingAnswers() { Stop(); }

void WaitingAnswers::Start() {
  auto locked = state_.Lock();
  if (!thread_.joinable() && !locked->stop) thread_ = std::thread([this] { Loop(); });
}

bool WaitingAnswers::Add(std::string deployment, std::chrono::seconds wait, Deliver&& deliver) {
  auto locked = state_.Lock();
  if (locked->waiters.size() >= max_waiting_ || locked->stop) return false;
  locked->waiters.push_back(
      std::make_unique<Waiter>(Waiter{std::move(deployment), std::move(deliver), Clock::now() + wait}));
  ++waiting_;
  locked->wake = true;
  cv_.notify_all();
  return true;
}

void WaitingAnswers::Notify() {
  state_.Lock()->wake = true;
  cv_.notify_all();
}

void WaitingAnswers::Loop() {
  auto locked = state_.Lock();
  for (;;) {
    auto next = Clock::now() + std::chrono::hours(1);
    for (const auto& wt : locked->waiters) next = std::min(next, wt->deadline);
    locked.WaitUntil(cv_, next, [](const State& s) { return s.wake || s.stop; });
    locked->wake = false;
    auto now = Clock::now();
    std::vector<std::unique_ptr<Waiter>> ready;
    auto& waiters = locked->waiters;
    for (auto it = waiters.begin(); it != waiters.end();) {
      auto d = store_.Get((*it)->id);
      // The deployment that does a superseded one's work answers for it (a chain is short:
      // each link is a queued deployment; the bound only guards against a corrupt record).
      for (int hop = 0;
           hop < 64 && d && d->state == state::DeploymentState::kSuperseded && !d->superseded_by.empty();
           ++hop) {
        (*it)->id = d->superseded_by;
        d = store_.Get((*it)->id);
      }
      if (locked->stop || !d || state::IsFinished(d->state) || now >= (*it)->deadline) {
        ready.push_back(std::move(*it));
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
    const bool stop = locked->stop;
    locked.Unlocked([&] {
      for (auto& wt : ready) {
        auto d = store_.Get(wt->id);
        wt->deliver(d ? FinalAnswer(*d) : ErrorAnswer({ErrorCode::kInternal, "deployment record lost", {}}));
        --waiting_;
      }
    });
    if (stop && locked->waiters.empty()) return;
  }
}

void WaitingAnswers::Stop() { StopLoop(state_, cv_, thread_); }

}  // namespace podcd::http
