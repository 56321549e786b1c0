// How an answer goes out on its connection, and whether the connection stays open after it.
#pragma once

#include <pistache/http.h>

#include <atomic>
#include <functional>
#include <memory>

#include "http/answers.hpp"
#include "http/log_stream.hpp"

namespace podcd::http {

// Counts, on its connection, one answer that goes through Pistache's writer while it lives:
// the server's own writes (Send) would overtake it, so the connection's next answers queue too.
class QueuedAnswer {
 public:
  explicit QueuedAnswer(std::shared_ptr<std::atomic<int>> count);
  ~QueuedAnswer();
  QueuedAnswer(const QueuedAnswer&) = delete;
  QueuedAnswer& operator=(const QueuedAnswer&) = delete;

 private:
  std::shared_ptr<std::atomic<int>> count_;
};

// Whether the connection stays open after the answer (RFC 9112 §9.3). Pistache 0.0.5 writes
// `Connection: close` unless the client sent a Connection header and never closes a connection
// itself: the server sets the header and ends the connection once the answer is written.
struct Link {
  bool keep_alive = false;
  bool http10 = false;
  // Set for an answer written from another thread (Deferred): a copy of the socket to end, as
  // Pistache may have closed the connection's descriptor by then and the kernel reused its
  // number; and the answer's place in its connection's queue.
  std::shared_ptr<const int> socket;
  std::shared_ptr<const QueuedAnswer> queued;
};

// On the reactor thread, for the request it answers.
[[nodiscard]] Link LinkOf(const Pistache::Http::Request& req);
// On the reactor thread: the link of an answer that another thread writes later.
[[nodiscard]] Link Deferred(const Link& link, const Pistache::Http::ResponseWriter& w);

// Writes `answer` and, when `close`, ends the connection after it; `done` runs once the answer
// is written or cannot be. On the reactor thread it writes to the socket itself: Pistache's
// writer costs a queue, an eventfd wake-up, a turn of the event loop and two epoll_ctl calls
// per answer. From another thread, only with a Deferred link.
void Send(Pistache::Http::ResponseWriter& w, const Answer& answer, const Link& link, bool close,
          std::function<void()> done);

// On the reactor thread: answers the request with the head of an endless text/event-stream
// (Connection: close; the body ends with the connection) and returns where the events go, from
// any thread.
std::unique_ptr<EventSink> StartEventStream(Pistache::Http::ResponseWriter& w, const Link& link);

}  // namespace podcd::http
