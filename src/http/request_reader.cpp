#include "http/request_reader.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace podcd::http {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;
constexpr std::size_t kMaxTrailers = 8 << 10;

std::optional<std::uint64_t> Decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::optional<std::uint64_t> Hex(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return std::nullopt;
    n = n * 16 + static_cast<std::uint64_t>(d);
  }
  return n;
}

}  // namespace

std::optional<std::string> RequestHead::Get(std::string_view name) const {
  const std::string key = AsciiLower(name);
  for (const auto& [n, v] : fields) {
    if (n == key) return v;
  }
  return std::nullopt;
}

std::vector<std::string> RequestHead::All(std::string_view name) const {
  const std::string key = AsciiLower(name);
  std::vector<std::string> out;
  for (const auto& [n, v] : fields) {
    if (n == key) out.push_back(v);
  }
  return out;
}

bool RequestLineIs(std::string_view bytes, std::string_view method, std::string_view path) {
  if (!bytes.starts_with(method) || bytes.size() <= method.size() || bytes[method.size()] != ' ')
    return false;
  bytes.remove_prefix(method.size() + 1);
  if (!bytes.starts_with(path) || bytes.size() <= path.size()) return false;
  const char after = bytes[path.size()];
  return after == ' ' || after == '?';
}

bool RequestReader::Fail(int status, std::string why) {
  state_ = State::kFailed;
  status_ = status;
  error_ = std::move(why);
  return false;
}

bool RequestReader::ParseHead(std::string_view block) {
  const std::size_t eol = block.find("\r\n");
  const std::string_view line = block.substr(0, eol);
  block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail(400, "malformed request line");
  head_.method = line.substr(0, sp1);
  head_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  head_.version = line.substr(sp2 + 1);
  if (head_.version != "HTTP/1.1" && head_.version != "HTTP/1.0") return Fail(400, "not an HTTP/1.x request");
  while (!block.empty()) {
    const std::size_t end = block.find("\r\n");
    const std::string_view field = block.substr(0, end);
    block.remove_prefix(end == std::string_view::npos ? block.size() : end + 2);
    if (field.empty()) continue;
    if (field.front() == ' ' || field.front() == '\t')
      return Fail(400, "folded header lines are not accepted");
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return Fail(400, "malformed header line");
    head_.fields.emplace_back(AsciiLower(field.substr(0, colon)),
                              std::string(TrimBlanks(field.substr(colon + 1))));
  }
  const auto te = head_.All("Transfer-Encoding");
  const auto cl = head_.All("Content-Length");
  if (!te.empty()) {
    // Both framings at once is how requests are smuggled past a proxy: refused.
    if (!cl.empty()) return Fail(400, "both Content-Length and Transfer-Encoding");
    if (te.size() != 1 || AsciiLower(te.front()) != "chunked")
      return Fail(501, "only the chunked transfer coding is accepted");
    chunked_ = true;
    state_ = State::kChunkSize;
    return true;
  }
  if (cl.size() != 1) return Fail(411, "the request needs a Content-Length or chunked transfer coding");
  length_ = Decimal(cl.front());
  if (!length_) return Fail(400, "malformed Content-Length");
  left_ = *length_;
  state_ = left_ == 0 ? State::kDone : State::kLength;
  return true;
}

bool RequestReader::Feed(std::string_view bytes) {
  if (state_ == State::kFailed) return false;
  if (state_ == State::kHead) {
    const std::size_t had = pending_.size();
    pending_.append(bytes);
    // The end of the head may straddle the previous read.
    const std::size_t from = had >= 3 ? had - 3 : 0;
    const std::size_t end = pending_.find("\r\n\r\n", from);
    if (end == std::string::npos) {
      if (pending_.size() > max_head_) return Fail(431, "request headers too large");
      return true;
    }
    if (end + 4 > max_head_) return Fail(431, "request headers too large");
    const std::string head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    return ParseHead(head);
  }
  if (!sink_) {
    pending_.append(bytes);
    return true;
  }
  return Body(bytes);
}

bool RequestReader::StartBody(BodySink sink) {
  if (state_ == State::kHead || state_ == State::kFailed) return false;
  sink_ = std::move(sink);
  std::string early;
  early.swap(pending_);
  return early.empty() || Body(early);
}

bool RequestReader::Emit(std::string_view bytes) {
  if (bytes.empty() || sink_(bytes)) return true;
  state_ = State::kFailed;
  status_ = 0;
  return false;
}

bool RequestReader::Body(std::string_view bytes) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::kLength:
      case State::kChunkData: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, bytes.size()));
        if (!Emit(bytes.substr(0, n))) return false;
        bytes.remove_prefix(n);
        left_ -= n;
        if (left_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kChunkEnd;
        break;
      }
      case State::kChunkSize:
      case State::kChunkEnd:
      case State::kTrailers: {
        const std::size_t had = pending_.size();
        pending_.append(bytes.substr(0, std::min(bytes.size(), kMaxTrailers + 2)));
        const std::size_t from = had > 0 ? had - 1 : 0;
        const std::size_t eol = pending_.find("\r\n", from);
        if (eol == std::string::npos) {
          if (pending_.size() > (state_ == State::kTrailers ? kMaxTrailers : kMaxChunkLine))
            return Fail(400, "malformed chunked body");
          bytes = {};
          break;
        }
        bytes.remove_prefix(eol + 2 - had);
        const std::string line = pending_.substr(0, eol);
        pending_.clear();
        if (state_ == State::kChunkEnd) {
          if (!line.empty()) return Fail(400, "malformed chunked body: a chunk is longer than its size");
          state_ = State::kChunkSize;
        } else if (state_ == State::kTrailers) {
          if (line.empty()) state_ = State::kDone;  // trailer fields are read and ignored
        } else {
          auto size = Hex(TrimBlanks(std::string_view(line).substr(0, line.find(';'))));
          if (!size) return Fail(400, "malformed chunk size");
          left_ = *size;
          state_ = left_ == 0 ? State::kTrailers : State::kChunkData;
        }
        break;
      }
      case State::kDone: return true;  // what follows is another request: not read here
      case State::kHead:
      case State::kFailed: return false;
    }
  }
  return true;
}

}  // namespace podcd::http
