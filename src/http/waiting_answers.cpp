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
  std::lock_guard lock(mutex_);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { Loop(); });
}

bool WaitingAnswers::Add(std::string deployment, std::chrono::seconds wait, Deliver&& deliver) {
  std::lock_guard lock(mutex_);
  if (waiters_.size() >= max_waiting_ || stop_) return false;
  waiters_.push_back(
      std::make_unique<Waiter>(Waiter{std::move(deployment), std::move(deliver), Clock::now() + wait}));
  ++waiting_;
  wake_ = true;
  cv_.notify_all();
  return true;
}

void WaitingAnswers::Notify() {
  std::lock_guard lock(mutex_);
  wake_ = true;
  cv_.notify_all();
}

void WaitingAnswers::Loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    auto next = Clock::now() + std::chrono::hours(1);
    for (const auto& wt : waiters_) next = std::min(next, wt->deadline);
    cv_.wait_until(lock, next, [&] { return wake_ || stop_; });
    wake_ = false;
    auto now = Clock::now();
    std::vector<std::unique_ptr<Waiter>> ready;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto d = store_.Get((*it)->id);
      // The deployment that does a superseded one's work answers for it.
      while (d && d->state == state::DeploymentState::kSuperseded && !d->superseded_by.empty()) {
        (*it)->id = d->superseded_by;
        d = store_.Get((*it)->id);
      }
      if (stop_ || !d || state::IsFinished(d->state) || now >= (*it)->deadline) {
        ready.push_back(std::move(*it));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    bool stop = stop_;
    lock.unlock();
    for (auto& wt : ready) {
      auto d = store_.Get(wt->id);
      wt->deliver(d ? FinalAnswer(*d) : ErrorAnswer({ErrorCode::kInternal, "deployment record lost", {}}));
      --waiting_;
    }
    lock.lock();
    if (stop && waiters_.empty()) return;
  }
}

void WaitingAnswers::Stop() { StopLoop(mutex_, cv_, stop_, thread_); }

}  // namespace podcd::http
