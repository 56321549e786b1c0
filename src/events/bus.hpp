// The deployment events of one podcd process: the work queue publishes them as they happen
// (a deployment queued, started, a stack starting to be applied, a stack's outcome, a
// deployment finished) and anything that
// must hear of them subscribes (GET /events, the notifier). Publishing never waits on a
// subscriber: a handler only copies what it needs into a bounded queue of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "state/deployment.hpp"
#include "util/guarded.hpp"

namespace podcd::events {

// kStackStarted: a stack whose plan changes it (create, recreate, removal) starts being
// applied; unchanged stacks have none. Its outcome follows as kStack.
enum class Kind { kQueued, kStarted, kStackStarted, kStack, kFinished };

// "queued", "started", "stack-started", "stack", "finished".
std::string_view ToString(Kind kind);

struct Event {
  Kind kind = Kind::kQueued;
  // Set by Publish: 1, 2, 3... in the order of publication within this process.
  std::uint64_t seq = 0;
  // The deployment as it is at this event, without its log lines (kFinished: its final state,
  // reason, commit and every stack's outcome).
  state::Deployment deployment;
  // kStack: the outcome that was just set; kStackStarted: the stack's name alone.
  std::optional<state::StackOutcome> stack;
};

class Bus {
 public:
  // Called on the publishing thread (the queue's, or a request's for a queued event), one
  // event at a time in `seq` order. Must not block nor call back into the bus.
  using Handler = std::function<void(const Event&)>;

  // Until the returned handle is destroyed (the handler is not running then, nor later).
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Bus* bus, std::uint64_t id) : bus_(bus), id_(id) {}
    ~Subscription() { Reset(); }
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    void Reset();

   private:
    Bus* bus_ = nullptr;
    std::uint64_t id_ = 0;
  };

  [[nodiscard]] Subscription Subscribe(Handler handler);
  // Numbers the event and hands it to every subscriber; the deployment's log is dropped.
  void Publish(Event event);
  // The `seq` the next event will get.
  [[nodiscard]] std::uint64_t NextSeq();

 private:
  void Unsubscribe(std::uint64_t id);
  struct State {
    std::uint64_t next_id = 1;
    std::uint64_t next_seq = 1;
    std::vector<std::pair<std::uint64_t, Handler>> handlers;
  };
  // Held while handlers run: events reach every handler in order, and Unsubscribe returns only
  // once its handler cannot run any more.
  Guarded<State> state_;
};

// Publishes `kind` for `d` on `bus` when there is one (a convenience for publishers).
void Publish(Bus* bus, Kind kind, const state::Deployment& d,
             std::optional<state::StackOutcome> stack = std::nullopt);

}  // namespace podcd::events
