// GET /deployments/<id>/events: a deployment's log as server-sent events while it runs. Each
// log line is one message (its id is the line's index, so a reconnecting EventSource resumes
// with Last-Event-ID); `event: end` carries the final state, then the connection ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "state/store.hpp"
#include "util/guarded.hpp"

namespace podcd::http {

// Where a stream's bytes go. Write returns false once the client is gone; after a `last` write
// the connection ends. A stream writes at least every kTouch (an empty write when it has
// nothing to say): the connection's request timeout starts anew with each write that arrives.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual bool Write(std::string bytes, bool last) = 0;
  // Bytes written and not yet sent to the client.
  [[nodiscard]] virtual std::size_t Buffered() const { return 0; }
  // Ends the connection now, whatever is still unsent (a client that stopped reading).
  virtual void Abort() {}
  // True once the client has closed the connection (a quiet stream learns it before a write).
  [[nodiscard]] virtual bool Gone() const { return false; }
};

inline constexpr std::chrono::milliseconds kTouch{2000};

// One server-sent event: `event:` and `id:` when not empty, a `data:` field per line of `data`.
std::string SseFrame(std::string_view event, std::string_view id, std::string_view data);

// The events for `lines[from..]` of a record and, when it has finished, its end event.
std::string EventsOf(const state::Deployment& d, std::size_t from);

class LogStreams {
 public:
  LogStreams(state::Store& store, std::size_t max_streams);
  ~LogStreams();
  LogStreams(const LogStreams&) = delete;
  LogStreams& operator=(const LogStreams&) = delete;

  void Start();
  // Follows deployment `id` from log line `from`; false when the streams are full or stopped.
  [[nodiscard]] bool Follow(std::string id, std::size_t from, std::unique_ptr<EventSink> sink);
  [[nodiscard]] bool Full() const;
  // Ends every stream (the clients reconnect to the next podcd). Idempotent.
  void Stop();

 private:
  void Loop();
  struct Follower {
    std::string id;
    std::size_t next = 0;  // the first log line not sent yet
    std::unique_ptr<EventSink> sink;
    std::chrono::steady_clock::time_point last_write;
    std::chrono::steady_clock::time_point last_touch;
  };
  // Sends what is new; false when the follower is done (ended, or its client gone).
  bool Advance(Follower& f);

  state::Store& store_;
  const std::size_t max_streams_;
  struct State {
    std::vector<Follower> followers;
    bool stop = false;
  };
  mutable Guarded<State> state_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace podcd::http
