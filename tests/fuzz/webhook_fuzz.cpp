// libFuzzer target over the webhook's pure logic: signature header parsing and verification,
// payload classification, trigger parsing, the /deploy body parser and the failed-auth limiter.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/webhook.hpp"

using namespace podcd::http;

namespace {

// Splits the input at the first two 0x00 bytes: secret, header value, body.
void Split(std::string_view in, std::string_view& a, std::string_view& b, std::string_view& c) {
  auto p = in.find('\0');
  a = in.substr(0, p);
  if (p == std::string_view::npos) return;
  in.remove_prefix(p + 1);
  p = in.find('\0');
  b = in.substr(0, p);
  if (p == std::string_view::npos) return;
  c = in.substr(p + 1);
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view secret, header, body;
  Split(in, secret, header, body);
  switch (data[0] % 5) {
    case 0: {
      SignatureHeaders h;
      h.hub_sha256 = header;
      bool ok = VerifySignature(secret, body, h);
      // Accepted exactly when the header is the right signature.
      std::string expected = "sha256=" + HmacSha256Hex(secret, body);
      Check(ok == (!secret.empty() && header == expected));
      // The right signature always verifies.
      h.hub_sha256 = expected;
      Check(VerifySignature(secret, body, h) == !secret.empty());
      break;
    }
    case 1: {
      SignatureHeaders h;
      if (data[0] & 0x10) h.gitea = header;
      if (data[0] & 0x20) h.gitlab_token = header;
      bool ok = VerifySignature(secret, body, h);
      if (h.gitea) {
        Check(ok == (!secret.empty() && header == HmacSha256Hex(secret, body)));
      } else if (h.gitlab_token) {
        Check(ok == (!secret.empty() && header == secret));
      } else {
        Check(!ok);
      }
      auto d = ParseDigestHex(header);
      Check(!d || header.size() == 64);
      break;
    }
    case 2: {
      auto a = Classify(TriggerEndpoint::kRedeployAndUpdate, header, secret, body);
      auto b = Classify(TriggerEndpoint::kDeployAllChanged, header, secret, body);
      Check(b.kind == Classification::Kind::kTrigger || b.kind == Classification::Kind::kPong);
      Check(a.reason.size() < 512);
      for (char c : a.reason) Check(c != '\0');
      // The adapter's path: the same decision from the headers, the event cut at 100 bytes.
      HeaderList headers{{"X-GitHub-Event", std::string(header)}, {"Content-Type", std::string(secret)}};
      auto t = ParseTrigger(TriggerEndpoint::kRedeployAndUpdate, headers, body);
      Check(t.request.has_value() != !t.error.empty());
      Check(!t.request || t.request->event.size() <= 100);
      if (header.size() <= 100) {
        Check((a.kind == Classification::Kind::kBadRequest) == !t.request);
        Check(!t.request || t.request->kind == a.kind);
      }
      Check(!VerifyTrigger(secret, headers, body));  // no signature header: never verified
      break;
    }
    case 3: {
      auto r = ParseDeployRequest(in);
      Check(r.request.has_value() != !r.error.empty());
      break;
    }
    case 4: {
      AuthFailureLimiter lim(3, 8);
      auto t = AuthFailureLimiter::Clock::time_point{};
      std::size_t i = 0;
      for (char c : in) {
        std::string client(1, static_cast<char>(c & 0x0f));
        t += std::chrono::seconds(static_cast<unsigned char>(c) >> 4);
        if (!lim.Blocked(client, t)) lim.RecordFailure(client, t);
        Check(lim.TrackedClients() <= 8);
        if (++i > 4096) break;
      }
      break;
    }
  }
  return 0;
}
