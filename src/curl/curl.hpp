// The one libcurl wrapper: an easy handle that talks HTTP/1.1 to one peer (a unix socket such as
// Podman's, or a URL such as a podcd daemon's), keeping its connection open.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::curl {

struct HttpResponse {
  long status = 0;
  std::string body;
};

struct CurlOptions {
  std::string socket_path;            // empty: connect to the URL's host
  std::string base_url = "http://d";  // prefixed to every request's path
  std::string peer = "Podman";        // names the other side in error messages
  std::chrono::milliseconds connect_timeout{5000};
  // Responses larger than this fail (a runaway log or pull stream must not eat the memory).
  std::size_t max_body_bytes = 64u << 20;
};

// One easy handle = one reused connection. NOT thread-safe: a Curl (and the podman::Client
// that owns it) belongs to one thread at a time; give each worker thread its own Client.
class Curl {
 public:
  explicit Curl(CurlOptions options);
  Curl(Curl&&) noexcept;
  Curl& operator=(Curl&&) noexcept;
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  ~Curl();

  // Sends `method` to <base_url><path> (over the socket, when set) with a total time limit. A body, when
  // given, is sent as application/json. Any HTTP status is a success here; transport
  // failures (no socket, refused, timeout, oversized body) are errors.
  [[nodiscard]] Expected<HttpResponse> Request(std::string_view method, std::string_view path,
                                               std::string_view body, const std::vector<std::string>& headers,
                                               std::chrono::milliseconds timeout);

  // A body read as it is sent (a file of any size never held in memory): `read` fills up to
  // `max` bytes and returns how many (0 at the end, -1 to abort); `size` is the Content-Length.
  struct BodySource {
    std::uint64_t size = 0;
    std::function<long(char* buffer, std::size_t max)> read;
  };
  [[nodiscard]] Expected<HttpResponse> Stream(std::string_view method, std::string_view path,
                                              const BodySource& body, const std::vector<std::string>& headers,
                                              std::chrono::milliseconds timeout);

  const CurlOptions& options() const { return options_; }
  // Connections opened so far (1 after any number of calls while the peer keeps it open).
  long connections_opened() const { return connections_opened_; }

 private:
  // The shared part of Request and Stream: the options set, the transfer made.
  Expected<HttpResponse> Perform(std::string_view method, std::string_view path, std::string_view body,
                                 const BodySource* source, const std::vector<std::string>& headers,
                                 std::chrono::milliseconds timeout);
  struct Deleter {
    void operator()(void* handle) const noexcept;
  };
  CurlOptions options_;
  long connections_opened_ = 0;
  std::unique_ptr<void, Deleter> handle_;  // CURL*; void keeps <curl/curl.h> out of the header
};

// Percent-encodes everything but RFC 3986 unreserved characters (for query values and path
// segments).
std::string UrlEncode(std::string_view s);

}  // namespace podcd::curl
