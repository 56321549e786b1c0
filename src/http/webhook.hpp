// Pure webhook logic: signature verification, payload classification, the failed-auth limiter.
// No Pistache and no podcd::Error here on purpose: the fuzzer (clang 14, no std::expected)
// compiles this file alone.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/ip.hpp"

namespace podcd::http {

// The signature headers of one request, as received (absent = nullopt).
struct SignatureHeaders {
  std::optional<std::string_view> hub_sha256;    // X-Hub-Signature-256: sha256=<64 lowercase hex>
  std::optional<std::string_view> gitea;         // X-Gitea-Signature: <64 lowercase hex>
  std::optional<std::string_view> gitlab_token;  // X-Gitlab-Token: the secret itself
};

// True only when a supported header is present and matches. The first present header in the
// order above decides; a SHA-1 `X-Hub-Signature` alone is never enough. Constant-time compares.
[[nodiscard]] bool VerifySignature(std::string_view secret, std::string_view body,
                                   const SignatureHeaders& headers);

// Constant-time equality of a presented token with a configured one (an empty `expected`
// never matches). Used for X-Gitlab-Token and the API bearer token.
[[nodiscard]] bool TokenEquals(std::string_view expected, std::string_view presented);

// HMAC-SHA256(secret, body) as 64 lowercase hex digits (used by `podcd sign` and tests).
[[nodiscard]] std::string HmacSha256Hex(std::string_view secret, std::string_view body);

// Decodes exactly 64 lowercase hex digits; anything else (uppercase too) is nullopt.
[[nodiscard]] std::optional<std::array<unsigned char, 32>> ParseDigestHex(std::string_view hex);

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x (the API's default: loopback clients only).
[[nodiscard]] bool IsLoopbackAddress(std::string_view host);

// The one body every authentication failure gets, whatever the cause.
inline constexpr std::string_view kUnauthorizedBody = R"({"error":"invalid or missing signature"})";

enum class TriggerEndpoint { kDeployAllChanged, kRedeployAndUpdate };

struct Classification {
  enum class Kind {
    kTrigger,     // enqueue work
    kPong,        // X-GitHub-Event: ping
    kIgnored,     // a release event whose action is not "published"
    kBadRequest,  // JSON needed but malformed
  };
  Kind kind = Kind::kTrigger;
  std::string reason;  // for kIgnored and kBadRequest; never echoes more than a short prefix
};

// Decides what a verified trigger request means. The payload is only a "go look now" signal:
// nothing from it is used beyond the `action` field of a release event.
[[nodiscard]] Classification Classify(TriggerEndpoint endpoint, std::string_view event,
                                      std::string_view content_type, std::string_view body);

// The request headers, as an HTTP adapter hands them to the pure functions below (looked up
// only when needed: most requests are rejected after two or three).
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  // The value of header `name` (case-insensitive), or nullopt when absent.
  [[nodiscard]] virtual std::optional<std::string> Get(std::string_view name) const = 0;
};

// Headers held in a list (tests, the fuzzer; the server reads Pistache's directly).
class HeaderList final : public RequestHeaders {
 public:
  HeaderList() = default;
  HeaderList(std::initializer_list<std::pair<std::string, std::string>> entries) : entries_(entries) {}
  void Add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  [[nodiscard]] std::optional<std::string> Get(std::string_view name) const override;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// VerifySignature over the signature headers of a request: X-Hub-Signature-256, then
// X-Gitea-Signature (or its Forgejo spelling X-Forgejo-Signature), then X-Gitlab-Token.
[[nodiscard]] bool VerifyTrigger(std::string_view secret, const RequestHeaders& headers,
                                 std::string_view body);

// What a verified trigger request asks for. `kind` is kTrigger, kPong or kIgnored.
struct TriggerRequest {
  Classification::Kind kind = Classification::Kind::kTrigger;
  std::string reason;    // for kIgnored
  std::string event;     // X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event; at most 100 bytes
  std::string delivery;  // X-GitHub-Delivery, X-Gitea-Delivery or X-Gitlab-Event-UUID, as sent
};
struct TriggerParseResult {
  std::optional<TriggerRequest> request;
  std::string error;  // set when request is empty: a 400 (a malformed JSON payload, ...)
};
// Reads a verified trigger: the event and delivery headers (the first present spelling
// wins, even when empty), then Classify with the Content-Type.
[[nodiscard]] TriggerParseResult ParseTrigger(TriggerEndpoint endpoint, const RequestHeaders& headers,
                                              std::string_view body);

// `POST /deploy` admin body: {"stacks":[...], "all_changed":bool, "pull":bool}.
struct DeployRequest {
  std::vector<std::string> stacks;
  bool all_changed = false;
  bool pull = false;
};
struct DeployRequestResult {
  std::optional<DeployRequest> request;
  std::string error;  // set when request is empty
};
[[nodiscard]] DeployRequestResult ParseDeployRequest(std::string_view body);

// Which address a request counts as coming from (failed-auth limit, loopback-only API, logs):
// the socket peer, unless the peer is one of `trusted_proxies` (addresses or networks, already
// validated by the config). Then it is the right-most X-Forwarded-For entry that is not a
// trusted proxy: a proxy appends the address it saw, so everything left of that is the
// client's own claim and never believed. A spoofed header from a direct client changes nothing.
class ClientResolver {
 public:
  explicit ClientResolver(const std::vector<std::string>& trusted_proxies);
  [[nodiscard]] std::string ClientOf(std::string_view peer,
                                     std::optional<std::string_view> forwarded_for) const;

 private:
  [[nodiscard]] bool Trusted(std::string_view address) const;
  std::vector<ip::Network> trusted_;
};

// Counts failed authentications per client address (ClientResolver's, never a raw header) and
// blocks a client after `per_minute` failures within a one-minute window. Memory is bounded
// by `max_clients`: when full, expired windows are dropped first, then the oldest window.
// Not thread-safe; the server keeps it inside a Guarded.
class AuthFailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthFailureLimiter(std::int64_t per_minute, std::size_t max_clients = 4096);

  [[nodiscard]] bool Blocked(const std::string& client, Clock::time_point now) const;
  void RecordFailure(const std::string& client, Clock::time_point now);
  [[nodiscard]] std::size_t TrackedClients() const { return windows_.size(); }

 private:
  struct Window {
    Clock::time_point start;
    std::int64_t failures = 0;
  };
  void MakeRoom(Clock::time_point now);

  std::int64_t per_minute_;
  std::size_t max_clients_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace podcd::http
