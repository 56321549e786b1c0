// GET /events: every deployment event of the bus (events/bus.hpp) as server-sent events, for
// dashboards and scripts that follow podcd live. `id:` is the event's seq, so a reconnecting
// EventSource resumes with Last-Event-ID from a ring of recent events; when what it asks for is
// older than the ring (or from another podcd process) it gets `event: reset` and refetches.
//
// Publishing never waits on a client: the bus handler only puts the event's text into the ring
// and wakes the stream's thread, which writes to the clients. A client whose connection holds
// more than its bound of unsent bytes (it reads too slowly, or not at all) is dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/bus.hpp"
#include "http/log_stream.hpp"
#include "util/guarded.hpp"

namespace podcd::http {

// The text of one event on the stream, and what ?stack= filters on.
struct StreamedEvent {
  std::uint64_t seq = 0;
  std::shared_ptr<const std::string> frame;  // "event: KIND\nid: SEQ\ndata: {...}\n\n"
  // The stacks the event concerns; `any` for those of a deployment of every changed stack before
  // it knows which (its queued and started events).
  std::vector<std::string> stacks;
  bool any = false;

  [[nodiscard]] bool Matches(std::string_view stack) const;
};

StreamedEvent StreamedOf(const events::Event& event);

// The last `capacity` events, and where a client resumes from. Pure: no lock, no thread.
class EventRing {
 public:
  // `next_seq`: the seq the bus gives its next event (none before it will be pushed).
  EventRing(std::size_t capacity, std::uint64_t next_seq);

  void Push(StreamedEvent event);
  // The seq after the newest event (the bus's next one as far as the ring knows).
  [[nodiscard]] std::uint64_t NextSeq() const { return next_; }

  struct Resume {
    bool reset = false;                 // events after `last` are gone (or `last` is from another process)
    std::vector<StreamedEvent> events;  // after `last`, oldest first (none on a reset)
  };
  // For a client that has seen every event up to `last` (its Last-Event-ID).
  [[nodiscard]] Resume After(std::uint64_t last) const;

 private:
  std::size_t capacity_;
  std::uint64_t next_;
  std::deque<StreamedEvent> events_;
};

// The `event: reset` frame: its id is the newest seq, so the client resumes from now on.
std::string ResetFrame(std::uint64_t newest);

struct EventStreamLimits {
  std::size_t max_streams = 32;
  std::size_t ring = 512;
  // Unsent bytes a client's connection may hold before it is dropped.
  std::size_t max_buffered = 64 << 10;
  std::chrono::milliseconds heartbeat{15000};
};

class EventStreams {
 public:
  // Without a bus the stream is open but quiet (heartbeats only).
  EventStreams(events::Bus* bus, EventStreamLimits limits);
  ~EventStreams();
  EventStreams(const EventStreams&) = delete;
  EventStreams& operator=(const EventStreams&) = delete;

  void Start();
  // Sends the events after `last` that concern `stack` ("" : all) to `sink`; false when the
  // streams are full or stopped.
  [[nodiscard]] bool Follow(std::uint64_t last, std::string stack, std::unique_ptr<EventSink> sink);
  [[nodiscard]] bool Full() const;
  [[nodiscard]] std::size_t Open() const;
  // The seq of the newest event published (0: none yet): where a client that asks for no
  // Last-Event-ID starts, taken when its request arrives.
  [[nodiscard]] std::uint64_t Newest() const;
  // Ends every stream (the clients reconnect to the next podcd). Idempotent.
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    std::uint64_t seen = 0;  // the newest seq the client has been sent (or skipped)
    std::string stack;
    std::unique_ptr<EventSink> sink;
    Clock::time_point last_write;
    Clock::time_point last_touch;
  };
  void Published(const events::Event& event);
  void Loop();
  // Writes what the client has not seen; false when it is done (gone, or dropped as too slow).
  bool Advance(Client& c, const EventRing::Resume& resume, Clock::time_point now);

  const EventStreamLimits limits_;
  struct State {
    EventRing ring;
    std::vector<Client> clients;
    std::size_t open = 0;  // clients, those being written to included
    bool stop = false;
    bool changed = false;  // an event or a client since the loop last looked
  };
  mutable Guarded<State> state_;
  std::condition_variable cv_;
  std::thread thread_;
  events::Bus::Subscription subscription_;  // last: unsubscribed before the rest goes
};

}  // namespace podcd::http
