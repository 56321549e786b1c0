#include "http/webhook.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>

#include "util/sha256.hpp"

namespace podcd::http {
namespace {

constexpr std::size_t kDigestLen = kSha256Size;  // HMAC-SHA256 from util/sha256 (no EVP set-up)
constexpr std::chrono::minutes kWindow{1};

bool DigestMatches(std::string_view secret, std::string_view body, std::string_view hex) {
  auto given = ParseDigestHex(hex);
  if (!given) return false;
  auto expected = HmacSha256(secret, body);
  return CRYPTO_memcmp(given->data(), expected.data(), kDigestLen) == 0;
}

// Compares a presented token with the secret in time independent of where they differ.
// Both are hashed first so the length of the secret does not leak through the comparison.
bool TokenMatches(std::string_view secret, std::string_view token) {
  if (secret.empty()) return false;
  auto a = HmacSha256("podcd-token-compare", secret);
  auto b = HmacSha256("podcd-token-compare", token);
  return CRYPTO_memcmp(a.data(), b.data(), kDigestLen) == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool LooksLikeJson(std::string_view content_type, std::string_view body) {
  if (Lower(content_type).find("json") != std::string::npos) return true;
  auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (body[first] == '{' || body[first] == '[');
}

std::string ParseErrorText(const rapidjson::Document& doc) {
  return std::string("malformed JSON body: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
         " at offset " + std::to_string(doc.GetErrorOffset());
}

}  // namespace

bool IsLoopbackAddress(std::string_view host) {
  return host.starts_with("127.") || host == "::1" || host.starts_with("::ffff:127.");
}

bool TokenEquals(std::string_view expected, std::string_view presented) {
  return TokenMatches(expected, presented);
}

std::optional<std::array<unsigned char, 32>> ParseDigestHex(std::string_view hex) {
  if (hex.size() != kDigestLen * 2) return std::nullopt;
  std::array<unsigned char, kDigestLen> out{};
  for (std::size_t i = 0; i < kDigestLen; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  return out;
}

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  const auto d = HmacSha256(secret, body);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

bool VerifySignature(std::string_view secret, std::string_view body, const SignatureHeaders& headers) {
  if (secret.empty()) return false;
  if (headers.hub_sha256) {
    constexpr std::string_view kPrefix = "sha256=";
    std::string_view v = *headers.hub_sha256;
    if (!v.starts_with(kPrefix)) return false;
    return DigestMatches(secret, body, v.substr(kPrefix.size()));
  }
  if (headers.gitea) return DigestMatches(secret, body, *headers.gitea);
  if (headers.gitlab_token) return TokenMatches(secret, *headers.gitlab_token);
  return false;
}

Classification Classify(TriggerEndpoint endpoint, std::string_view event, std::string_view content_type,
                        std::string_view body) {
  using Kind = Classification::Kind;
  if (Lower(event) == "ping") return {Kind::kPong, {}};
  if (endpoint == TriggerEndpoint::kDeployAllChanged) return {Kind::kTrigger, {}};
  // redeploy-and-update: a release webhook fires for created/edited/deleted too; only
  // "published" (or no action at all, as CI callers send) means "go".
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return {Kind::kTrigger, {}};
  if (!LooksLikeJson(content_type, body)) return {Kind::kTrigger, {}};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError()) return {Kind::kBadRequest, ParseErrorText(doc)};
  if (!doc.IsObject()) return {Kind::kTrigger, {}};
  auto it = doc.FindMember("action");
  if (it == doc.MemberEnd()) return {Kind::kTrigger, {}};
  if (!it->value.IsString()) return {Kind::kBadRequest, "field \"action\" must be a string"};
  std::string_view action(it->value.GetString(), it->value.GetStringLength());
  if (action == "published") return {Kind::kTrigger, {}};
  std::string shown(action.substr(0, 64));
  // Only printable ASCII of the action is echoed back.
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') c = '?';
  }
  return {Kind::kIgnored, "action \"" + shown + "\" is not \"published\""};
}

std::optional<std::string> HeaderList::Get(std::string_view name) const {
  const std::string wanted = Lower(name);
  for (const auto& [n, v] : entries_) {
    if (Lower(n) == wanted) return v;
  }
  return std::nullopt;
}

bool VerifyTrigger(std::string_view secret, const RequestHeaders& headers, std::string_view body) {
  auto hub_sha256 = headers.Get("X-Hub-Signature-256");
  auto gitea = headers.Get("X-Gitea-Signature");
  if (!gitea) gitea = headers.Get("X-Forgejo-Signature");
  auto gitlab_token = headers.Get("X-Gitlab-Token");
  SignatureHeaders h;
  if (hub_sha256) h.hub_sha256 = *hub_sha256;
  if (gitea) h.gitea = *gitea;
  if (gitlab_token) h.gitlab_token = *gitlab_token;
  return VerifySignature(secret, body, h);
}

TriggerParseResult ParseTrigger(TriggerEndpoint endpoint, const RequestHeaders& headers,
                                std::string_view body) {
  // The first spelling present wins, even when its value is empty.
  auto first_of = [&](std::initializer_list<std::string_view> names) {
    for (auto name : names) {
      if (auto v = headers.Get(name)) return *v;
    }
    return std::string();
  };
  TriggerRequest t;
  t.event = first_of({"X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"});
  if (t.event.size() > 100) t.event.resize(100);
  auto cls = Classify(endpoint, t.event, headers.Get("Content-Type").value_or(""), body);
  TriggerParseResult r;
  if (cls.kind == Classification::Kind::kBadRequest) {
    r.error = std::move(cls.reason);
    return r;
  }
  t.kind = cls.kind;
  t.reason = std::move(cls.reason);
  t.delivery = first_of({"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID"});
  r.request = std::move(t);
  return r;
}

DeployRequestResult ParseDeployRequest(std::string_view body) {
  DeployRequestResult r;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    r.error = "empty body: expected {\"stacks\":[...], \"all_changed\":bool, \"pull\":bool}";
    return r;
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    r.error = ParseErrorText(doc);
    return r;
  }
  if (!doc.IsObject()) {
    r.error = "body must be a JSON object";
    return r;
  }
  DeployRequest req;
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (key == "stacks") {
      if (!m->value.IsArray()) {
        r.error = "field \"stacks\" must be an array of stack names";
        return r;
      }
      if (m->value.Size() > 1000) {
        r.error = "field \"stacks\" lists more than 1000 stacks";
        return r;
      }
      for (const auto& s : m->value.GetArray()) {
        if (!s.IsString()) {
          r.error = "field \"stacks\" must contain only strings";
          return r;
        }
        req.stacks.emplace_back(s.GetString(), s.GetStringLength());
      }
    } else if (key == "all_changed" || key == "pull" || key == "force" || key == "pull_uploaded") {
      if (!m->value.IsBool()) {
        r.error = "field \"" + std::string(key) + "\" must be true or false";
        return r;
      }
      (key == "pull"            ? req.pull
       : key == "force"         ? req.force
       : key == "pull_uploaded" ? req.pull_uploaded
                                : req.all_changed) = m->value.GetBool();
    } else {
      std::string shown(key.substr(0, 64));
      for (char& c : shown) {
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') c = '?';
      }
      r.error = "unknown field \"" + shown + "\" (expected stacks, all_changed, pull, force, pull_uploaded)";
      return r;
    }
  }
  if (req.stacks.empty() && !req.all_changed) {
    r.error = "nothing to do: give \"stacks\" or \"all_changed\":true";
    return r;
  }
  if (req.force && req.stacks.empty()) {
    r.error = "\"force\":true recreates the named stacks: give \"stacks\"";
    return r;
  }
  r.request = std::move(req);
  return r;
}

ClientResolver::ClientResolver(const std::vector<std::string>& trusted_proxies) {
  for (const auto& p : trusted_proxies) {
    if (auto n = ip::ParseNetwork(p)) trusted_.push_back(*n);
  }
}

bool ClientResolver::Trusted(std::string_view address) const {
  auto a = ip::ParseAddress(address);
  return a && std::any_of(trusted_.begin(), trusted_.end(), [&](const auto& n) { return n.Contains(*a); });
}

std::string ClientResolver::ClientOf(std::string_view peer,
                                     std::optional<std::string_view> forwarded_for) const {
  std::vector<std::string> lines;
  if (forwarded_for) lines.emplace_back(*forwarded_for);
  return ClientOf(peer, lines);
}

std::string ClientResolver::ClientOf(std::string_view peer,
                                     const std::vector<std::string>& forwarded_for) const {
  auto peer_address = ip::ParseAddress(peer);
  // A peer that is no address (never from a socket) is kept bounded: it becomes a limiter key.
  std::string from_peer = peer_address ? ip::ToString(*peer_address) : std::string(peer.substr(0, 64));
  if (trusted_.empty() || !peer_address || !Trusted(peer)) return from_peer;
  std::string last = from_peer;
  for (auto line = forwarded_for.rbegin(); line != forwarded_for.rend(); ++line) {
    std::string_view rest = *line;
    while (!rest.empty()) {
      auto comma = rest.rfind(',');
      std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
      while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
      if (entry.empty()) continue;
      auto a = ip::ParseForwardedAddress(entry);
      // Garbage where a trusted proxy's report should be: nothing right of it names the client.
      if (!a) return from_peer;
      last = ip::ToString(*a);
      if (!std::any_of(trusted_.begin(), trusted_.end(), [&](const auto& n) { return n.Contains(*a); }))
        return last;
    }
  }
  return last;  // every hop is a trusted proxy: the request started on one of them
}

std::string LimiterKey(std::string_view client) {
  if (client.find(':') == std::string_view::npos) return std::string(client);  // IPv4, as ClientOf writes it
  auto a = ip::ParseAddress(client);
  if (!a || !a->v6) return std::string(client);
  std::fill(a->bytes.begin() + 8, a->bytes.end(), 0);
  return ip::ToString(*a) + "/64";
}

AuthFailureLimiter::AuthFailureLimiter(std::int64_t per_minute, std::size_t max_clients)
    : per_minute_(per_minute), max_clients_(std::max<std::size_t>(max_clients, 1)) {}

bool AuthFailureLimiter::Blocked(const std::string& client, Clock::time_point now) const {
  if (per_minute_ <= 0) return false;
  auto it = windows_.find(LimiterKey(client));
  if (it == windows_.end()) return false;
  if (now - it->second.start >= kWindow) return false;
  return it->second.failures >= per_minute_;
}

void AuthFailureLimiter::RecordFailure(const std::string& client, Clock::time_point now) {
  if (per_minute_ <= 0) return;
  std::string key = LimiterKey(client);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    MakeRoom(now);
    windows_.emplace(std::move(key), Window{now, 1});
    return;
  }
  if (now - it->second.start >= kWindow) {
    it->second = Window{now, 1};
  } else if (it->second.failures < per_minute_) {
    ++it->second.failures;
  }
}

void AuthFailureLimiter::MakeRoom(Clock::time_point now) {
  if (windows_.size() < max_clients_) return;
  std::erase_if(windows_, [&](const auto& kv) { return now - kv.second.start >= kWindow; });
  if (windows_.size() < max_clients_) return;
  auto oldest = std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
    return a.second.start < b.second.start;
  });
  windows_.erase(oldest);
}

void ForwardedForScanner::Feed(std::string_view bytes) {
  if (complete_) return;
  // Empty lines before a request line are skipped (RFC 9112 §2.2), as are those after a body.
  while (block_.empty() && !bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n'))
    bytes.remove_prefix(1);
  const std::size_t searched = block_.size() >= 3 ? block_.size() - 3 : 0;
  block_.append(bytes.substr(0, max_ + 4 - std::min(block_.size(), max_ + 4)));
  auto end = block_.find("\r\n\r\n", searched);
  if (end == std::string::npos) {
    // Given up only once the bound is held and no end is in it: the same whatever the pieces.
    if (block_.size() >= max_ + 4) {
      broken_ = complete_ = true;
      block_.clear();
    }
    return;
  }
  complete_ = true;
  Parse(std::string_view(block_).substr(0, end + 2));
  block_.clear();
  block_.shrink_to_fit();
}

void ForwardedForScanner::Parse(std::string_view block) {
  constexpr std::string_view kName = "x-forwarded-for";
  auto nl = block.find("\r\n");
  block.remove_prefix(nl + 2);  // the request line
  while (!block.empty()) {
    nl = block.find("\r\n");
    std::string_view line = block.substr(0, nl);
    block.remove_prefix(nl + 2);
    auto colon = line.find(':');
    // A folded line, a bare CR or LF, or a line without a name: who knows which field it extends.
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t' ||
        line.find_first_of("\r\n") != std::string_view::npos) {
      broken_ = true;
      lines_.clear();
      return;
    }
    auto name = line.substr(0, colon);
    if (name.size() != kName.size() || Lower(name) != kName) continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    lines_.emplace_back(value);
  }
}

std::optional<std::vector<std::string>> ForwardedForScanner::Lines() const {
  if (!complete_ || broken_) return std::nullopt;
  return lines_;
}

void ForwardedForScanner::Reset() {
  block_.clear();
  lines_.clear();
  complete_ = broken_ = false;
}

bool ConnectionTable::Open(const std::string& address, bool exempt) {
  if (total_ >= max_total_) return false;
  auto it = per_address_.find(address);
  const std::size_t from = it == per_address_.end() ? 0 : it->second;
  if (!exempt && from >= max_per_address_) return false;
  ++total_;
  if (it == per_address_.end()) {
    per_address_.emplace(address, 1);
  } else {
    ++it->second;
  }
  return true;
}

void ConnectionTable::Close(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;  // never counted: nothing to give back
  if (--it->second == 0) per_address_.erase(it);
  --total_;
}

std::size_t ConnectionTable::From(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

std::string DeliveryKey(std::string_view delivery) {
  if (delivery.empty()) return {};
  const bool plain = delivery.size() <= 200 && std::all_of(delivery.begin(), delivery.end(),
                                                           [](char c) { return c > 0x20 && c < 0x7f; });
  if (plain) return std::string(delivery);
  return "sha256-" + Sha256Hex(delivery);
}

}  // namespace podcd::http
