#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>

#include "notice_fixture.hpp"
#include "notify/formats.hpp"
#include "util/json.hpp"

using namespace podcd;
using namespace podcd::notify;
using namespace podcd::notify::testing;

namespace {

// HMAC-SHA256 by OpenSSL's HMAC(), not podcd's own, as lowercase hex.
std::string OpenSslHmacHex(std::string_view key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xf];
  }
  return hex;
}

}  // namespace

TEST_CASE("webhook: a POST of version 1 JSON with every field of the notice") {
  const auto out = Render(Target("webhook", "https://hooks.example/podcd"), FailedNotice());
  REQUIRE(out);
  CHECK(out->target == "webhook-0");
  CHECK(out->method == "POST");
  CHECK(out->url == "https://hooks.example/podcd");
  CHECK(Header(*out, "Content-Type") == "application/json");

  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  CHECK(json::GetInt(d, "version") == 1);
  CHECK(json::GetStr(d, "event") == "failed");
  CHECK(json::GetStr(d, "deployment") == "42");
  CHECK(json::GetStr(d, "actor") == "alice");
  CHECK(json::GetStr(d, "trigger") == "webhook");
  CHECK(json::GetStr(d, "commit") == kSha);
  CHECK(json::GetStr(d, "previous_commit") == "fedcba9876543210fedcba9876543210fedcba98");
  CHECK(json::GetStr(d, "reason") == "stack web failed");
  CHECK(json::GetStr(d, "link") == "https://podcd.example.net/deployments/42");
  CHECK(json::GetStr(d, "time") == "2026-09-21T14:13:20.123Z");
  REQUIRE(d["stacks"].IsArray());
  REQUIRE(d["stacks"].Size() == 2);
  CHECK(json::GetStr(d["stacks"][0], "name") == "web");
  CHECK(json::GetStr(d["stacks"][0], "outcome") == "failed");
  CHECK(json::GetStr(d["stacks"][0], "reason") == "health check timed out");
  CHECK(json::GetStr(d["stacks"][1], "name") == "db");
  CHECK(json::GetStr(d["stacks"][1], "reason").empty());
}

TEST_CASE("webhook: the shape is stable: an empty notice still has every key") {
  Notice n;
  n.what = What::kStarted;
  n.deployment = "7";
  const auto out = Render(Target("webhook", "http://127.0.0.1:1/h"), n);
  REQUIRE(out);
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  for (const char* key : {"version", "event", "deployment", "actor", "trigger", "commit", "previous_commit",
                          "reason", "stacks", "link", "time"})
    CHECK(d.HasMember(key));
  CHECK(d["stacks"].IsArray());
  CHECK(json::GetStr(d, "time").empty());
  CHECK_FALSE(Header(*out, "ce-time"));
}

TEST_CASE("webhook: CloudEvents attributes in binary mode, an id unique per deployment and event") {
  const auto failed = Render(Target("webhook", "https://h.example/"), FailedNotice());
  REQUIRE(failed);
  CHECK(Header(*failed, "ce-specversion") == "1.0");
  CHECK(Header(*failed, "ce-type") == "io.podcd.deployment.failed");
  CHECK(Header(*failed, "ce-source") == "podcd");
  CHECK(Header(*failed, "ce-time") == "2026-09-21T14:13:20.123Z");

  auto n = FailedNotice();
  n.what = What::kRolledBack;
  const auto rolled = Render(Target("webhook", "https://h.example/"), n);
  n.deployment = "43";
  const auto other = Render(Target("webhook", "https://h.example/"), n);
  REQUIRE(rolled);
  REQUIRE(other);
  CHECK(Header(*rolled, "ce-type") == "io.podcd.deployment.rolled_back");
  REQUIRE(Header(*failed, "ce-id"));
  CHECK(Header(*failed, "ce-id") != Header(*rolled, "ce-id"));
  CHECK(Header(*rolled, "ce-id") != Header(*other, "ce-id"));
}

TEST_CASE("webhook: signed with HMAC-SHA256 of the exact body when a secret is set, not otherwise") {
  const auto unsigned_out = Render(Target("webhook", "https://h.example/"), FailedNotice());
  REQUIRE(unsigned_out);
  CHECK_FALSE(Header(*unsigned_out, "X-Podcd-Signature-256"));

  const std::string secret(kCanary);
  const auto out = Render(Target("webhook", "https://h.example/", secret), FailedNotice());
  REQUIRE(out);
  const auto sig = Header(*out, "X-Podcd-Signature-256");
  REQUIRE(sig);
  CHECK(*sig == "sha256=" + OpenSslHmacHex(secret, out->body));
  CHECK(*sig != "sha256=" + OpenSslHmacHex("another key", out->body));
  CHECK(out->body.find(kCanary) == std::string::npos);
}

TEST_CASE("webhook: ill-formed UTF-8 and control characters still give valid JSON and safe headers") {
  auto n = FailedNotice();
  n.deployment = "42\r\nX-Evil: 1";
  n.stacks[0].reason = "bad \xc3\x28 bytes \x01";
  const auto out = Render(Target("webhook", "https://h.example/"), n);
  REQUIRE(out);
  CHECK(json::IsValidUtf8(out->body));
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  CHECK(json::GetStr(d["stacks"][0], "reason").find("bytes") != std::string::npos);
  for (const auto& [k, v] : out->headers) {
    CHECK(v.find('\r') == std::string::npos);
    CHECK(v.find('\n') == std::string::npos);
  }
}

TEST_CASE("an unknown type renders nothing") {
  CHECK_FALSE(Render(Target("carrier-pigeon", "https://x.example/"), FailedNotice()));
}
