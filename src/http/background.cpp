#include "http/background.hpp"

#include <exception>

#include "http/answers.hpp"
#include "util/log.hpp"

namespace podcd::http {

Background::Background(std::string name, std::size_t max_pending)
    : name_(std::move(name)), max_pending_(max_pending) {}

Background::~Background() { Stop(); }

void Background::Start() {
  auto s = state_.Lock();
  if (!thread_.joinable() && !s->stop) thread_ = std::thread([this] { Loop(); });
}

bool Background::Submit(Job& job) {
  {
    auto s = state_.Lock();
    if (s->stop || s->jobs.size() >= max_pending_) return false;
    s->jobs.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void Background::Stop() { StopLoop(state_, cv_, thread_); }

void Background::Loop() {
  for (;;) {
    Job job;
    {
      auto s = state_.Lock();
      s.Wait(cv_, [](const State& st) { return st.stop || !st.jobs.empty(); });
      if (s->jobs.empty()) return;  // stopped, and nothing left to run
      job = std::move(s->jobs.front());
      s->jobs.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::Error("background job failed", {{"thread", name_}, {"error", e.what()}});
    }
  }
}

}  // namespace podcd::http
