#include "http/deferred_answers.hpp"

#include "util/log.hpp"
#include "util/metrics.hpp"

namespace podcd::http {

SharedAnswer::SharedAnswer(std::string name, std::function<Answer()> compute)
    : name_(std::move(name)), compute_(std::move(compute)) {}

SharedAnswer::~SharedAnswer() { Stop(); }

void SharedAnswer::Start() {
  auto locked = state_.Lock();
  if (!thread_.joinable() && !locked->stop) thread_ = std::thread([this] { Loop(); });
}

bool SharedAnswer::Request(Deliver&& deliver) {
  auto locked = state_.Lock();
  if (locked->stop) return false;
  locked->pending.push_back(std::move(deliver));
  cv_.notify_all();
  return true;
}

void SharedAnswer::Loop() {
  auto locked = state_.Lock();
  for (;;) {
    locked.Wait(cv_, [](const State& s) { return !s.pending.empty() || s.stop; });
    if (locked->pending.empty()) return;
    // Every request taken here came before this answer began: one answer serves them all.
    std::vector<Deliver> batch;
    batch.swap(locked->pending);
    locked.Unlocked([&] {
      Answer answer{500, ErrorBody("internal error")};
      try {
        answer = compute_();
      } catch (const std::exception& e) {
        log::Error("request handler failed", {{"path", name_}, {"error", e.what()}});
      }
      for (auto& deliver : batch) deliver(answer);
    });
  }
}

void SharedAnswer::Stop() { StopLoop(state_, cv_, thread_); }

DeferredAnswers::DeferredAnswers(state::Store& store, StackCatalog& catalog, HealthProbe* health,
                                 std::string version)
    : store_(store),
      catalog_(catalog),
      health_probe_(health),
      version_(std::move(version)),
      health_("/health", [this] { return Health(); }),
      metrics_("/metrics",
               [] {
                 return Answer{200, metrics::Render(), kTextType};
               }),
      stacks_("/stacks", [this] { return Stacks(); }) {}

void DeferredAnswers::Start() {
  for (auto* a : {&health_, &metrics_, &stacks_}) a->Start();
}

void DeferredAnswers::Stop() {
  for (auto* a : {&health_, &metrics_, &stacks_}) a->Stop();
}

bool DeferredAnswers::Request(Route route, SharedAnswer::Deliver&& deliver) {
  switch (route) {
    case Route::kHealth: return health_.Request(std::move(deliver));
    case Route::kMetrics: return metrics_.Request(std::move(deliver));
    case Route::kStacks: return stacks_.Request(std::move(deliver));
  }
  return false;
}

Answer DeferredAnswers::Health() {
  std::vector<std::string> problems;
  if (health_probe_ != nullptr) problems = health_probe_->Problems();
  return HealthAnswer(problems, version_);
}

Answer DeferredAnswers::Stacks() {
  auto listed = catalog_.List();
  if (!listed) {
    // Whatever the cause, the stacks cannot be observed now: 503.
    return ErrorAnswer({ErrorCode::kUnavailable, "cannot observe the stacks: " + listed.error().What(), {}});
  }
  return {200, StacksBody(std::move(*listed), store_.List(500))};
}

}  // namespace podcd::http
