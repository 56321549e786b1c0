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

// `POST /deploy` admin body: {"stacks":[...], "all_changed":bool, "pull":bool, "force":bool};
// force (recreate every service, changed or not) needs named stacks.
struct DeployRequest {
  std::vector<std::string> stacks;
  bool all_changed = false;
  bool pull = false;
  bool force = false;
  bool pull_uploaded = false;  // with pull: over uploaded images too (docs/upload.md)
};
struct DeployRequestResult {
  std::optional<DeployRequest> request;
  std::string error;  // set when request is empty
};
[[nodiscard]] DeployRequestResult ParseDeployRequest(std::string_view body);

// Which address a request counts as coming from (failed-auth limit, loopback-only API, logs):
// the socket peer, unless the peer is one of `trusted_proxies` (addresses or networks, already
// validated by the config). Then it is the right-most X-Forwarded-For entry that is not a
// trusted proxy, over every X-Forwarded-For line in order (a proxy may append a line of its own
// rather than extend the last): a proxy appends the address it saw, so everything left of that
// is the client's own claim and never believed. A spoofed header from a direct client changes
// nothing. Entries are read by ip::ParseForwardedAddress (ports and brackets dropped); an entry
// that is no address, met before an untrusted one, makes the answer the peer itself.
class ClientResolver {
 public:
  explicit ClientResolver(const std::vector<std::string>& trusted_proxies);
  [[nodiscard]] std::string ClientOf(std::string_view peer,
                                     const std::vector<std::string>& forwarded_for) const;
  // One X-Forwarded-For line (or none).
  [[nodiscard]] std::string ClientOf(std::string_view peer,
                                     std::optional<std::string_view> forwarded_for) const;
  [[nodiscard]] bool HasTrustedProxies() const { return !trusted_.empty(); }
  [[nodiscard]] bool Trusted(std::string_view address) const;

 private:
  std::vector<ip::Network> trusted_;
};

// Collects the values of every X-Forwarded-For line of one request from its connection's bytes
// as they arrive, in any pieces. Pistache keeps only the first line of a repeated header, which
// is the client's own when a proxy adds a line of its own; this reads them all. Only the header
// block is read: after its blank line nothing is taken until Reset (the next request).
class ForwardedForScanner {
 public:
  explicit ForwardedForScanner(std::size_t max_header_bytes) : max_(max_header_bytes) {}
  void Feed(std::string_view bytes);
  // The blank line ending the header block was seen (or the block was too long to read).
  [[nodiscard]] bool Complete() const { return complete_; }
  // Some bytes of the request were fed and the request is not yet taken.
  [[nodiscard]] bool Started() const { return !block_.empty() || complete_; }
  // The values in order, each trimmed; nullopt when the block could not be read (longer than
  // the bound, a folded line, a line that is no field) or is not complete.
  [[nodiscard]] std::optional<std::vector<std::string>> Lines() const;
  void Reset();

 private:
  void Parse(std::string_view block);

  std::size_t max_;
  std::string block_;
  bool complete_ = false;
  bool broken_ = false;
  std::vector<std::string> lines_;
};

// Open connections in total and per client address (LimiterKey form), each under its cap.
// Not thread-safe; the server keeps it inside a Guarded.
class ConnectionTable {
 public:
  ConnectionTable(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}
  // Counts a new connection unless a cap is reached. `exempt` lifts the per-address cap (a
  // trusted proxy carries the connections of many clients); it still counts in the total.
  [[nodiscard]] bool Open(const std::string& address, bool exempt);
  // Ends one connection that Open counted.
  void Close(const std::string& address);
  [[nodiscard]] std::size_t Total() const { return total_; }
  [[nodiscard]] std::size_t From(const std::string& address) const;
  [[nodiscard]] std::size_t Addresses() const { return per_address_.size(); }

 private:
  std::size_t max_total_;
  std::size_t max_per_address_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;  // no zero entries: bounded by total_
};

// The key a delivery id is remembered under (state::Store takes 1-200 printable characters
// without spaces): the id itself when it is such, else "sha256-" and the hex digest of the id,
// so that every id a forge sends is remembered and answered as a duplicate when replayed.
// Empty for an empty id (no delivery header: nothing to remember).
[[nodiscard]] std::string DeliveryKey(std::string_view delivery);

// The key a client's failures are counted under: an IPv6 client by its /64 (one host usually
// holds a whole /64, so per-address keys would give it 2^64 fresh budgets), anything else as is.
[[nodiscard]] std::string LimiterKey(std::string_view client);

// Counts failed authentications per client (ClientResolver's address, never a raw header; IPv6
// by /64, see LimiterKey) and reports a client as blocked after `per_minute` failures within a
// one-minute window. It only ever refuses requests that failed authentication: the server
// verifies first, so a correctly signed request from a blocked address is still processed
// (whoever shares the git host's egress addresses cannot lock its webhooks out).
// Memory is bounded by `max_clients`: when full, expired windows are dropped first, then the
// oldest window. Not thread-safe; the server keeps it inside a Guarded.
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
