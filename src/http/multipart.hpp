// multipart/form-data (RFC 7578) read as it arrives: a body of any size goes through a few
// kilobytes of state, each part's bytes handed on as they come (POST /upload streams the image
// part to a file). Pure: no sockets, no files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace podcd::http {

// The boundary parameter of a multipart/form-data Content-Type (quotes removed); nullopt when
// the type is another, or the boundary is missing, empty or longer than RFC 2046's 70 bytes.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

// One part's headers, as much of them as podcd reads.
struct PartHead {
  std::string name;      // Content-Disposition: form-data; name="..."
  std::string filename;  // filename="..." ("" when absent)
  std::string content_type;
};

// Where the parts go. A false return stops the parse: the sink's own error (a write failed, a
// field too long) is then the caller's to report.
class PartSink {
 public:
  virtual ~PartSink() = default;
  virtual bool Begin(const PartHead& head) = 0;
  virtual bool Data(std::string_view bytes) = 0;
  virtual bool End() = 0;
};

class MultipartReader {
 public:
  MultipartReader(const std::string& boundary, PartSink& sink);

  // The next bytes of the body, in any split. False once the body is malformed (Error() says
  // why) or the sink stopped it (Error() is then empty).
  bool Feed(std::string_view bytes);
  // The body ended: true when its closing delimiter was read (bytes after it are ignored).
  [[nodiscard]] bool Complete() const { return state_ == State::kEpilogue; }
  [[nodiscard]] const std::string& Error() const { return error_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kData, kEpilogue, kFailed };
  bool Fail(std::string why);
  bool ParseHeaders(std::string_view block);
  bool Step();  // one step over buffer_; false: needs more bytes, or failed

  const std::string delimiter_;  // "\r\n--" + boundary
  PartSink& sink_;
  State state_ = State::kPreamble;
  std::string buffer_;   // what is not handed on yet: at most a delimiter's length, or a header block
  std::size_t pos_ = 0;  // read position in buffer_
  std::string error_;
};

}  // namespace podcd::http
