#include "http/multipart.hpp"

#include "util/strings.hpp"

namespace podcd::http {
namespace {

constexpr std::size_t kMaxBoundary = 70;
constexpr std::size_t kMaxPartHeaders = 8 << 10;
// Spaces and tabs allowed after a delimiter, before its CRLF (RFC 2046 transport padding).
constexpr std::size_t kMaxPadding = 64;

// The value of parameter `key` in "type; a=1; b=\"x y\"" (quotes removed, \-escapes kept
// literal); nullopt when absent.
std::optional<std::string> Parameter(std::string_view header, std::string_view key) {
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    const std::size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string name = AsciiLower(TrimBlanks(header.substr(i, eq - i)));
    std::size_t v = eq + 1;
    std::string value;
    if (v < header.size() && header[v] == '"') {
      ++v;
      while (v < header.size() && header[v] != '"') {
        if (header[v] == '\\' && v + 1 < header.size()) ++v;
        value += header[v++];
      }
      i = header.find(';', v);
    } else {
      const std::size_t end = header.find(';', v);
      value = std::string(TrimBlanks(header.substr(v, end == std::string_view::npos ? end : end - v)));
      i = end;
    }
    if (name == key) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  if (AsciiLower(TrimBlanks(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  auto boundary = Parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > kMaxBoundary) return std::nullopt;
  return boundary;
}

MultipartReader::MultipartReader(const std::string& boundary, PartSink& sink)
    // The body's first delimiter has no CRLF before it: the buffer starts with one.
    : delimiter_("\r\n--" + boundary), sink_(sink), buffer_("\r\n") {}

bool MultipartReader::Fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  return false;
}

bool MultipartReader::ParseHeaders(std::string_view block) {
  PartHead head;
  std::string disposition;
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail("a part's header line has no ':'");
    const std::string name = AsciiLower(TrimBlanks(line.substr(0, colon)));
    const std::string_view value = TrimBlanks(line.substr(colon + 1));
    if (name == "content-disposition") disposition = value;
    if (name == "content-type") head.content_type = value;
  }
  if (AsciiLower(TrimBlanks(std::string_view(disposition).substr(0, disposition.find(';')))) != "form-data")
    return Fail("a part has no Content-Disposition: form-data header");
  auto field = Parameter(disposition, "name");
  if (!field || field->empty()) return Fail("a part has no field name");
  head.name = std::move(*field);
  head.filename = Parameter(disposition, "filename").value_or("");
  if (!sink_.Begin(head)) return Fail("");
  return true;
}

bool MultipartReader::Step() {
  const std::string_view rest = std::string_view(buffer_).substr(pos_);
  switch (state_) {
    case State::kPreamble:
    case State::kData: {
      const std::size_t at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // All but what could be the start of a delimiter is the part's (or discarded).
        const std::size_t keep = delimiter_.size() - 1;
        if (rest.size() > keep) {
          const std::size_t n = rest.size() - keep;
          if (state_ == State::kData && !sink_.Data(rest.substr(0, n))) return Fail("");
          pos_ += n;
        }
        return false;
      }
      if (state_ == State::kData) {
        if (at > 0 && !sink_.Data(rest.substr(0, at))) return Fail("");
        if (!sink_.End()) return Fail("");
      }
      pos_ += at + delimiter_.size();
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kAfterDelimiter: {
      if (rest.size() < 2) return false;
      if (rest.starts_with("--")) {
        state_ = State::kEpilogue;
        return false;
      }
      std::size_t i = 0;
      while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
      if (i > kMaxPadding) return Fail("a delimiter line of the body is malformed");
      if (rest.size() - i < 2) return false;
      if (rest.substr(i, 2) != "\r\n") return Fail("a delimiter line of the body is malformed");
      pos_ += i + 2;
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      std::size_t block_end = 0;
      std::size_t next = 0;
      if (rest.starts_with("\r\n")) {
        next = 2;  // a part without headers (refused below: it has no name)
      } else {
        const std::size_t at = rest.find("\r\n\r\n");
        if (at == std::string_view::npos) {
          if (rest.size() > kMaxPartHeaders) return Fail("a part's headers are longer than 8 KiB");
          return false;
        }
        block_end = at;
        next = at + 4;
      }
      if (block_end > kMaxPartHeaders) return Fail("a part's headers are longer than 8 KiB");
      if (!ParseHeaders(rest.substr(0, block_end))) return false;
      pos_ += next;
      state_ = State::kData;
      return true;
    }
    case State::kEpilogue:
    case State::kFailed: return false;
  }
  return false;
}

bool MultipartReader::Feed(std::string_view bytes) {
  if (state_ == State::kFailed) return false;
  if (state_ == State::kEpilogue) return true;
  buffer_.append(bytes);
  while (Step()) {
  }
  buffer_.erase(0, pos_);
  pos_ = 0;
  return state_ != State::kFailed;
}

}  // namespace podcd::http
