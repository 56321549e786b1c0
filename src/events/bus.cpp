#include "events/bus.hpp"

#include <algorithm>
#include <utility>

namespace podcd::events {

std::string_view ToString(Kind kind) {
  switch (kind) {
    case Kind::kQueued: return "queued";
    case Kind::kStarted: return "started";
    case Kind::kStackStarted: return "stack-started";
    case Kind::kStack: return "stack";
    case Kind::kFinished: return "finished";
  }
  return "unknown";
}

Bus::Subscription::Subscription(Subscription&& other) noexcept
    : bus_(std::exchange(other.bus_, nullptr)), id_(std::exchange(other.id_, 0)) {}

Bus::Subscription& Bus::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    Reset();
    bus_ = std::exchange(other.bus_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Bus::Subscription::Reset() {
  if (bus_ != nullptr) bus_->Unsubscribe(id_);
  bus_ = nullptr;
  id_ = 0;
}

Bus::Subscription Bus::Subscribe(Handler handler) {
  auto locked = state_.Lock();
  const std::uint64_t id = locked->next_id++;
  locked->handlers.emplace_back(id, std::move(handler));
  return Subscription(this, id);
}

void Bus::Unsubscribe(std::uint64_t id) {
  auto locked = state_.Lock();
  std::erase_if(locked->handlers, [id](const auto& h) { return h.first == id; });
}

std::uint64_t Bus::NextSeq() { return state_.Lock()->next_seq; }

void Bus::Publish(Event event) {
  event.deployment.log.clear();
  event.deployment.log.shrink_to_fit();
  auto locked = state_.Lock();
  event.seq = locked->next_seq++;
  for (const auto& [id, handler] : locked->handlers) handler(event);
}

void Publish(Bus* bus, Kind kind, const state::Deployment& d, std::optional<state::StackOutcome> stack) {
  if (bus == nullptr) return;
  Event e;
  e.kind = kind;
  // Copied without the log, which can hold thousands of lines.
  e.deployment.id = d.id;
  e.deployment.trigger = d.trigger;
  e.deployment.coalesced = d.coalesced;
  e.deployment.state = d.state;
  e.deployment.commit = d.commit;
  e.deployment.reason = d.reason;
  e.deployment.superseded_by = d.superseded_by;
  e.deployment.stacks = d.stacks;
  e.deployment.queued_at_ms = d.queued_at_ms;
  e.deployment.started_at_ms = d.started_at_ms;
  e.deployment.finished_at_ms = d.finished_at_ms;
  e.stack = std::move(stack);
  bus->Publish(std::move(e));
}

}  // namespace podcd::events
