// One HTTP/1.1 request read from a connection's bytes as they arrive, for the requests podcd
// reads itself instead of Pistache (POST /upload, http/upload.hpp): the head whole (bounded),
// then the body de-framed (Content-Length or chunked) and handed on piece by piece, never
// held whole. Pure: no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::http {

struct RequestHead {
  std::string method;
  std::string target;                                       // as sent: path and query
  std::string version;                                      // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> fields;  // names lowercased, in order
  // The first field `name` (any case), or nullopt.
  [[nodiscard]] std::optional<std::string> Get(std::string_view name) const;
  // Every field `name`'s value, in order (X-Forwarded-For may come on several lines).
  [[nodiscard]] std::vector<std::string> All(std::string_view name) const;
  [[nodiscard]] std::string Path() const { return target.substr(0, target.find('?')); }
};

// "POST /upload " and the like: whether `bytes` (the start of a request) is a request line
// beginning with `method` and the exact `path` (a query may follow).
bool RequestLineIs(std::string_view bytes, std::string_view method, std::string_view path);

class RequestReader {
 public:
  explicit RequestReader(std::size_t max_head_bytes) : max_head_(max_head_bytes) {}

  // The next bytes of the connection. False once the request is malformed: Status() is the
  // answer's status then (400, 431, 501) and Error() why.
  bool Feed(std::string_view bytes);
  [[nodiscard]] bool HeadDone() const { return state_ != State::kHead && state_ != State::kFailed; }
  [[nodiscard]] const RequestHead& Head() const { return head_; }
  // Content-Length when the body has one (nullopt: chunked).
  [[nodiscard]] std::optional<std::uint64_t> ContentLength() const { return length_; }

  // After the head: the body's bytes go to `sink` from now on (those already read first). A
  // false from the sink stops the reading (Feed then returns false, Status() 0).
  using BodySink = std::function<bool(std::string_view)>;
  bool StartBody(BodySink sink);
  [[nodiscard]] bool BodyDone() const { return state_ == State::kDone; }

  [[nodiscard]] int Status() const { return status_; }
  [[nodiscard]] const std::string& Error() const { return error_; }

 private:
  enum class State { kHead, kLength, kChunkSize, kChunkData, kChunkEnd, kTrailers, kDone, kFailed };
  bool Fail(int status, std::string why);
  bool ParseHead(std::string_view block);
  bool Body(std::string_view bytes);  // de-frames and hands on
  bool Emit(std::string_view bytes);

  const std::size_t max_head_;
  State state_ = State::kHead;
  RequestHead head_;
  std::string pending_;  // the head so far; then body bytes read before StartBody; a chunk line
  std::optional<std::uint64_t> length_;
  std::uint64_t left_ = 0;  // of the body (Content-Length) or of the chunk
  bool chunked_ = false;
  BodySink sink_;
  int status_ = 0;
  std::string error_;
};

}  // namespace podcd::http
