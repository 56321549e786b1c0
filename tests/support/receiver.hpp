// An HTTP receiver on loopback for tests of what podcd sends (notices, commit statuses): it
// records each request's method, path, headers and body, and answers as its mode says: 200,
// 500, or never (it hangs, holding the connection until the receiver ends). Down() gives a
// loopback URL where nothing listens.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace podcd::test {

struct Received {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    for (const auto& [n, v] : headers)
      if (n == lower_name) return v;
    return {};
  }
};

class Receiver {
 public:
  enum class Mode { kOk, kError, kHang };

  explicit Receiver(Mode mode = Mode::kOk) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Accept(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // A loopback URL where nothing listens (a port bound, then closed).
  static std::string Down() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/down";
  }

  std::vector<Received> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits (at most `timeout`) until `count` requests came in; returns them all.
  std::vector<Received> WaitFor(std::size_t count,
                                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
    return requests_;
  }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      connections_.emplace_back([this, c] { Serve(c); });
    }
  }

  // Reads until `pred` holds or the peer closes; false on close or stop.
  bool Read(int c, std::string& buf, std::size_t want) {
    char chunk[4096];
    while (buf.size() < want) {
      pollfd p{c, POLLIN, 0};
      if (stop_) return false;
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void Serve(int c) {
    std::string buf;
    for (;;) {
      std::size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!Read(c, buf, buf.size() + 1)) {
          ::close(c);
          return;
        }
      }
      Received r;
      const std::string head = buf.substr(0, end);
      std::size_t line_end = head.find("\r\n");
      const std::string first = head.substr(0, line_end);
      r.method = first.substr(0, first.find(' '));
      const auto p1 = first.find(' ') + 1;
      r.path = first.substr(p1, first.find(' ', p1) - p1);
      std::size_t length = 0;
      for (std::size_t at = line_end; at != std::string::npos && at < head.size();) {
        const std::size_t from = at + 2;
        const std::size_t next = head.find("\r\n", from);
        const std::string line =
            head.substr(from, next == std::string::npos ? std::string::npos : next - from);
        at = next;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") length = std::stoul(value);
        r.headers.emplace_back(std::move(name), std::move(value));
      }
      buf.erase(0, end + 4);
      if (!Read(c, buf, length)) {
        ::close(c);
        return;
      }
      r.body = buf.substr(0, length);
      buf.erase(0, length);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(r));
      }
      cv_.notify_all();
      if (mode_ == Mode::kHang) {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::close(c);
        return;
      }
      const std::string answer = mode_ == Mode::kOk
                                     ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                     : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail";
      if (::write(c, answer.data(), answer.size()) < 0) {
        ::close(c);
        return;
      }
    }
  }

  Mode mode_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;  // the accept thread's own
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> requests_;
};

}  // namespace podcd::test
