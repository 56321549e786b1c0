// libcurl wrapper: the only place in podcd that sees CURL* and CURLcode.
#include "curl/curl.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace podcd::curl {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct WriteState {
  std::string* body;
  std::size_t limit;
  bool overflow = false;
};

std::size_t OnWrite(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<WriteState*>(user);
  const std::size_t n = size * count;
  if (state->body->size() + n > state->limit) {
    state->overflow = true;
    return 0;  // makes curl abort with CURLE_WRITE_ERROR
  }
  state->body->append(data, n);
  return n;
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  const auto* source = static_cast<const Curl::BodySource*>(user);
  const long n = source->read(buffer, size * count);
  return n < 0 ? static_cast<std::size_t>(CURL_READFUNC_ABORT) : static_cast<std::size_t>(n);
}

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

// Appends one header line; false when libcurl is out of memory (the list is then unchanged).
bool Append(Slist& list, const char* header) {
  curl_slist* next = curl_slist_append(list.get(), header);
  if (next == nullptr) return false;
  static_cast<void>(list.release());
  list.reset(next);
  return true;
}

// The caller's headers, then a JSON Content-Type when a body (or a POST) has none, then an
// empty "Expect:" (no "Expect: 100-continue" round trip for larger bodies).
Expected<Slist> HeaderList(const std::vector<std::string>& headers, std::string_view method,
                           std::string_view body) {
  Slist list;
  for (const auto& header : headers) {
    if (!Append(list, header.c_str())) return Fail(ErrorCode::kInternal, "out of memory building headers");
  }
  const bool typed = std::any_of(headers.begin(), headers.end(), [](const std::string& header) {
    return header.size() > 13 && strncasecmp(header.c_str(), "Content-Type:", 13) == 0;
  });
  if (!typed && (!body.empty() || method == "POST")) {
    if (!Append(list, "Content-Type: application/json")) {
      return Fail(ErrorCode::kInternal, "out of memory building headers");
    }
  }
  if (!Append(list, "Expect:")) return Fail(ErrorCode::kInternal, "out of memory building headers");
  return list;
}

// A failed transfer as an Error: a timeout, a peer that is not there, an oversized answer,
// or anything else libcurl reports (with its own words).
std::unexpected<Error> TransportError(CURLcode rc, const char* error_buffer, bool overflow,
                                      const CurlOptions& options, std::string_view method,
                                      std::string_view path, std::chrono::milliseconds timeout) {
  std::string detail =
      error_buffer[0] != '\0' ? std::string(error_buffer) : std::string(curl_easy_strerror(rc));
  const std::string where = std::string(method) + " " + std::string(path);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return Fail(ErrorCode::kTimeout,
                  "no answer from " + options.peer + " within " + std::to_string(timeout.count()) + " ms",
                  where);
    case CURLE_COULDNT_CONNECT:
      return Fail(ErrorCode::kUnavailable,
                  options.socket_path.empty() ? "cannot connect to " + options.peer + ": " + detail
                                              : "cannot connect to the " + options.peer + " socket " +
                                                    options.socket_path + ": " + detail,
                  where);
    case CURLE_WRITE_ERROR:
      if (overflow) {
        return Fail(
            ErrorCode::kIo,
            options.peer + "'s answer is larger than " + std::to_string(options.max_body_bytes) + " bytes",
            where);
      }
      [[fallthrough]];
    default: return Fail(ErrorCode::kUnavailable, "talking to " + options.peer + " failed: " + detail, where);
  }
}

}  // namespace

void Curl::Deleter::operator()(void* handle) const noexcept { curl_easy_cleanup(static_cast<CURL*>(handle)); }

Curl::Curl(CurlOptions options) : options_(std::move(options)) {
  GlobalInit();
  handle_.reset(curl_easy_init());
  if (!handle_) throw std::runtime_error("curl_easy_init failed");
}

Curl::Curl(Curl&&) noexcept = default;
Curl& Curl::operator=(Curl&&) noexcept = default;
Curl::~Curl() = default;

Expected<HttpResponse> Curl::Request(std::string_view method, std::string_view path, std::string_view body,
                                     const std::vector<std::string>& headers,
                                     std::chrono::milliseconds timeout) {
  return Perform(method, path, body, nullptr, headers, timeout);
}

Expected<HttpResponse> Curl::Stream(std::string_view method, std::string_view path, const BodySource& body,
                                    const std::vector<std::string>& headers,
                                    std::chrono::milliseconds timeout) {
  return Perform(method, path, {}, &body, headers, timeout);
}

Expected<HttpResponse> Curl::Perform(std::string_view method, std::string_view path, std::string_view body,
                                     const BodySource* source, const std::vector<std::string>& headers,
                                     std::chrono::milliseconds timeout) {
  CURL* h = Handle(handle_.get());
  // Options from the previous request must not leak into this one; reset keeps the
  // connection cache, so the socket connection is still reused.
  curl_easy_reset(h);

  const std::string url = options_.base_url + std::string(path);
  const std::string method_str(method);
  HttpResponse response;
  WriteState state{&response.body, options_.max_body_bytes};
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  auto list = HeaderList(headers, method, body);
  if (!list) return std::unexpected(list.error());

  if (!options_.socket_path.empty())
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, options_.socket_path.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list->get());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  if (source != nullptr) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);  // PUT unless CUSTOMREQUEST says otherwise
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(source->size));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, source);
  } else if (method == "POST" || method == "PUT" || !body.empty()) {
    // Never NULL: with NULL libcurl would read the body from its read callback (stdin).
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  }

  const CURLcode rc = curl_easy_perform(h);
  // The buffer and the header list die with this call; the handle must not keep them.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  long connects = 0;
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
    connections_opened_ += connects;
  }
  if (rc != CURLE_OK) {
    return TransportError(rc, error_buffer.data(), state.overflow, options_, method, path, timeout);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
        u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace podcd::curl
