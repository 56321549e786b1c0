#include "http/link.hpp"

#include <fcntl.h>
#include <pistache/peer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "http/persistence.hpp"
#include "http/wire.hpp"

namespace podcd::http {
namespace Http = Pistache::Http;
namespace {

// SO_SNDBUF of a stream's connection (the kernel doubles it).
constexpr int kStreamSendBuffer = 64 << 10;

// The key of a connection's count of queued answers among its Pistache peer data.
const std::string kQueuedKey = "podcd.queued";

std::shared_ptr<std::atomic<int>> QueuedCount(Pistache::Tcp::Peer& peer, bool create) {
  auto data = peer.tryGetData(kQueuedKey);
  if (data || !create) return std::static_pointer_cast<std::atomic<int>>(data);
  auto count = std::make_shared<std::atomic<int>>(0);
  peer.putData(kQueuedKey, count);
  return count;
}

int PeerFd(const Http::ResponseWriter& w) {
  auto peer = w.getPeer();
  return peer ? peer->fd() : -1;
}

namespace {
struct OwnedFd {
  explicit OwnedFd(int f) : fd(f) {}
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  const int fd;
};
}  // namespace

// A copy of a connection's descriptor, closed with its last holder (-1 when there is none).
std::shared_ptr<const int> DuplicateSocket(int fd) {
  auto owned = std::make_shared<const OwnedFd>(fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  return {owned, &owned->fd};  // shares ownership of the OwnedFd, points at its descriptor
}

std::string_view ConnectionValue(bool close, bool http10) {
  if (close) return "close";
  return http10 ? "keep-alive" : "";
}

// Only the write side is shut once the answer is written (RFC 9112 §9.6): the client reads the
// whole answer and closes, then Pistache sees the end and drops the connection (or drops it as
// idle after its keep-alive timeout); closing outright could reset it before the client read.
void EndWrites(int fd) {
  if (fd >= 0) ::shutdown(fd, SHUT_WR);
}

// The answer's bytes, with the fields the server added to it (Allow, Retry-After,
// WWW-Authenticate): Pistache's own writer leaves such raw fields out.
std::string AnswerBytes(Http::ResponseWriter& w, const Answer& answer, const Link& link, bool close) {
  const auto& raws = w.headers().rawList();
  std::vector<std::string> values;  // Raw::value() returns a copy: the fields point into these
  values.reserve(raws.size());
  std::vector<WireField> fields;
  for (const auto& [name, raw] : raws) fields.push_back({name, values.emplace_back(raw.value())});
  for (const auto& [name, value] : answer.headers) fields.push_back({name, value});
  return WireBytes(link.http10 ? HttpMinor::k0 : HttpMinor::k1, answer.status,
                   Http::codeString(static_cast<Http::Code>(answer.status)), answer.content_type,
                   ConnectionValue(close, link.http10), fields, answer.body);
}

// Through Pistache's transport queue: written on a later turn of the reactor's loop, after
// what is queued before it (an answer from another thread, or one behind such an answer).
void SendQueued(Http::ResponseWriter& w, const Answer& answer, const Link& link, bool close,
                std::function<void()> done) {
  const int fd = close ? (link.socket ? *link.socket : PeerFd(w)) : -1;
  auto end = [fd, keep = link, done = std::move(done)] {
    EndWrites(fd);
    done();
  };
  auto peer = w.getPeer();
  if (!peer) {  // the client is gone
    end();
    return;
  }
  std::string bytes = AnswerBytes(w, answer, link, close);
  const std::size_t size = bytes.size();
  peer->setIdle(true);  // as Pistache's writer does: the keep-alive timeout runs from the answer on
  peer->send(Pistache::RawBuffer(std::move(bytes), size))
      .then([end](ssize_t) { end(); }, [end](const std::exception_ptr&) { end(); });
}

// Straight to the socket, on the reactor thread; false leaves the answer to SendQueued.
bool SendNow(Http::ResponseWriter& w, const Answer& answer, const Link& link, bool close,
             std::function<void()>& done) {
  auto peer = w.getPeer();
  if (!peer) return false;
  if (auto queued = QueuedCount(*peer, false); queued && *queued > 0) return false;  // keeps the order
  std::string bytes = AnswerBytes(w, answer, link, close);
  peer->setIdle(true);  // as Pistache's writer does: the keep-alive timeout runs from the answer on
  const int fd = peer->fd();
  const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<ssize_t>(bytes.size()) || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    // Written, or the client is gone (Pistache sees that on its next read).
    if (close && n > 0) EndWrites(fd);
    done();
    return true;
  }
  // The socket's buffer is full: Pistache's writer sends the rest as the client reads.
  bytes.erase(0, n > 0 ? static_cast<std::size_t>(n) : 0);
  const std::size_t size = bytes.size();
  auto queued = std::make_shared<const QueuedAnswer>(QueuedCount(*peer, true));
  auto end = [fd, close, queued, done = std::move(done)] {
    if (close) EndWrites(fd);
    done();
  };
  peer->send(Pistache::RawBuffer(std::move(bytes), size))
      .then([end](ssize_t) { end(); }, [end](const std::exception_ptr&) { end(); });
  return true;
}

}  // namespace

QueuedAnswer::QueuedAnswer(std::shared_ptr<std::atomic<int>> count) : count_(std::move(count)) { ++*count_; }

QueuedAnswer::~QueuedAnswer() { --*count_; }

namespace {

class ConnectionSink final : public EventSink {
 public:
  ConnectionSink(Http::ResponseWriter w, std::shared_ptr<const int> socket)
      : w_(std::move(w)), socket_(std::move(socket)) {}
  ~ConnectionSink() override {
    if (!ended_) EndWrites(*socket_);
  }
  ConnectionSink(const ConnectionSink&) = delete;
  ConnectionSink& operator=(const ConnectionSink&) = delete;
  bool Write(std::string bytes, bool last) override {
    auto peer = w_.getPeer();
    if (!peer || ended_) return false;
    ended_ = last;
    const std::size_t size = bytes.size();
    *buffered_ += size;
    // Pistache keeps what the socket does not take yet and settles the promise once it is sent,
    // on the connection's reactor thread. Pistache 0.0.5 answers 408 on a connection whose
    // parser has waited longer than the request timeout for a next request, as a stream's does:
    // each write that reaches the client starts that wait anew (the stream writes often enough).
    auto sent_or_gone = [buffered = buffered_, size, socket = last ? socket_ : nullptr,
                         weak = std::weak_ptr<Pistache::Tcp::Peer>(peer)] {
      *buffered -= size;
      if (socket) EndWrites(*socket);
      if (auto p = weak.lock()) Http::Handler::getParser(p)->reset();
    };
    peer->send(Pistache::RawBuffer(std::move(bytes), size))
        .then([sent_or_gone](ssize_t) { sent_or_gone(); },
              [sent_or_gone](const std::exception_ptr&) { sent_or_gone(); });
    return true;
  }
  [[nodiscard]] std::size_t Buffered() const override { return *buffered_; }
  [[nodiscard]] bool Gone() const override { return ended_ || !w_.getPeer(); }
  // Both directions: Pistache reads the end, drops the connection and what it still held.
  void Abort() override {
    ended_ = true;
    if (*socket_ >= 0) ::shutdown(*socket_, SHUT_RDWR);
  }

 private:
  Http::ResponseWriter w_;
  std::shared_ptr<const int> socket_;
  std::shared_ptr<std::atomic<std::size_t>> buffered_ = std::make_shared<std::atomic<std::size_t>>(0);
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<EventSink> StartEventStream(Http::ResponseWriter& w, const Link& link) {
  // A fixed send buffer: the kernel's autotuning would otherwise hold megabytes for a client
  // that stopped reading before the sink's own bound (Buffered) could see it.
  const int fd = PeerFd(w);
  const int send_buffer = kStreamSendBuffer;
  if (fd >= 0) (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  auto sink = std::make_unique<ConnectionSink>(w.clone(), DuplicateSocket(fd));
  std::string head =
      std::string(link.http10 ? "HTTP/1.0" : "HTTP/1.1") +
      " 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
  (void)sink->Write(std::move(head), false);
  return sink;
}

Link LinkOf(const Http::Request& req) {
  const bool http10 = req.version() == Http::Version::Http10;
  const auto raw = req.headers().tryGetRaw("Connection");
  const std::string value = raw ? raw->value() : std::string();  // Raw::value() returns a copy
  return {KeepsAlive(http10 ? HttpMinor::k0 : HttpMinor::k1,
                     raw ? std::optional<std::string_view>(value) : std::nullopt),
          http10, nullptr, nullptr};
}

Link Deferred(const Link& link, const Http::ResponseWriter& w) {
  Link deferred = link;
  deferred.socket = DuplicateSocket(PeerFd(w));
  if (auto peer = w.getPeer())
    deferred.queued = std::make_shared<const QueuedAnswer>(QueuedCount(*peer, true));
  return deferred;
}

void Send(Http::ResponseWriter& w, const Answer& answer, const Link& link, bool close,
          std::function<void()> done) {
  if (!link.socket && SendNow(w, answer, link, close, done)) return;
  SendQueued(w, answer, link, close, std::move(done));
}

}  // namespace podcd::http
