#include "http/webhook.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace podcd::http;

namespace {
constexpr std::string_view kSecret = "It's a Secret to Everybody";
constexpr std::string_view kBody = "Hello, World!";
constexpr std::string_view kGood = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

bool Hub(std::string_view value, std::string_view body = kBody) {
  SignatureHeaders h;
  h.hub_sha256 = value;
  return VerifySignature(kSecret, body, h);
}
}  // namespace

TEST_CASE("GitHub's published test vector") {
  CHECK(HmacSha256Hex(kSecret, kBody) == kGood);
  CHECK(Hub("sha256=" + std::string(kGood)));
}

TEST_CASE("HMAC-SHA256: RFC 4231's test cases, keys shorter than, equal to and longer than a block") {
  CHECK(HmacSha256Hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(HmacSha256Hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Keys of 131 bytes: hashed first (test cases 6 and 7).
  CHECK(HmacSha256Hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(HmacSha256Hex(std::string(131, '\xaa'),
                      "This is a test using a larger than block-size key and a larger than block-size data. "
                      "The key needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // A key of exactly one block is used as it is.
  CHECK(HmacSha256Hex(std::string(64, 'k'), "") == HmacSha256Hex(std::string(64, 'k'), std::string_view()));
  CHECK(HmacSha256Hex("", "") == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("every malformed or wrong GitHub signature is rejected") {
  std::string good(kGood);
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string wrong = good;
  wrong[10] = wrong[10] == '0' ? '1' : '0';
  std::string non_hex = good;
  non_hex[0] = 'g';
  CHECK_FALSE(Hub(""));
  CHECK_FALSE(Hub("sha256="));
  CHECK_FALSE(Hub("sha256=" + good.substr(0, 63)));
  CHECK_FALSE(Hub("sha256=" + good + "0"));
  CHECK_FALSE(Hub("sha256=" + good + "00"));
  CHECK_FALSE(Hub("sha256=" + upper));
  CHECK_FALSE(Hub("sha256=" + non_hex));
  CHECK_FALSE(Hub("sha256=" + wrong));
  CHECK_FALSE(Hub(good));              // no prefix
  CHECK_FALSE(Hub("sha1=" + good));    // wrong algorithm name
  CHECK_FALSE(Hub("SHA256=" + good));  // prefix is case-sensitive
  CHECK_FALSE(Hub(" sha256=" + good));
  CHECK_FALSE(Hub("sha256=" + good, "Hello, World"));  // body changed
  // Missing: no header at all.
  CHECK_FALSE(VerifySignature(kSecret, kBody, SignatureHeaders{}));
  // An empty secret never verifies anything, not even an HMAC made with it.
  SignatureHeaders h;
  std::string empty_sig = "sha256=" + HmacSha256Hex("", kBody);
  h.hub_sha256 = empty_sig;
  CHECK_FALSE(VerifySignature("", kBody, h));
}

TEST_CASE("SHA-1 X-Hub-Signature alone is not a header we read") {
  // The struct has no field for it: a request carrying only X-Hub-Signature verifies as
  // "missing". The server test proves the HTTP side.
  SignatureHeaders h;
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
}

TEST_CASE("Gitea/Forgejo signature: hex without prefix") {
  SignatureHeaders h;
  h.gitea = kGood;
  CHECK(VerifySignature(kSecret, kBody, h));
  std::string prefixed = "sha256=" + std::string(kGood);
  h.gitea = prefixed;
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
  h.gitea = "";
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
}

TEST_CASE("GitLab token compared with the secret") {
  SignatureHeaders h;
  h.gitlab_token = kSecret;
  CHECK(VerifySignature(kSecret, kBody, h));
  h.gitlab_token = "It's a Secret to Everybodx";
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
  h.gitlab_token = "It's a Secret to Everybody ";
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
  h.gitlab_token = "";
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
}

TEST_CASE("the first present header decides") {
  SignatureHeaders h;
  h.hub_sha256 = "sha256=0000";
  h.gitlab_token = kSecret;  // a good token does not rescue a bad GitHub signature
  CHECK_FALSE(VerifySignature(kSecret, kBody, h));
}

TEST_CASE("ParseDigestHex") {
  CHECK(ParseDigestHex(kGood).has_value());
  CHECK((*ParseDigestHex(std::string(64, 'f')))[31] == 0xff);
  CHECK_FALSE(ParseDigestHex(std::string(64, 'F')).has_value());
  CHECK_FALSE(ParseDigestHex(std::string(62, 'a')).has_value());
  CHECK_FALSE(ParseDigestHex("").has_value());
}

TEST_CASE("payload classification") {
  using K = Classification::Kind;
  auto all = TriggerEndpoint::kDeployAllChanged;
  auto one = TriggerEndpoint::kRedeployAndUpdate;
  CHECK(Classify(all, "ping", "", "{}").kind == K::kPong);
  CHECK(Classify(one, "ping", "", "").kind == K::kPong);
  CHECK(Classify(all, "push", "application/json", "").kind == K::kTrigger);
  CHECK(Classify(all, "", "", "").kind == K::kTrigger);
  // deploy-all-changed never parses the payload: it is only a signal.
  CHECK(Classify(all, "push", "application/json", "{not json").kind == K::kTrigger);

  CHECK(Classify(one, "release", "application/json", R"({"action":"published"})").kind == K::kTrigger);
  auto ignored = Classify(one, "release", "application/json", R"({"action":"created"})");
  CHECK(ignored.kind == K::kIgnored);
  CHECK(ignored.reason.find("created") != std::string::npos);
  CHECK(Classify(one, "", "", R"({"action":"deleted"})").kind == K::kIgnored);  // sniffed as JSON
  CHECK(Classify(one, "package", "application/json", R"({"other":1})").kind == K::kTrigger);
  CHECK(Classify(one, "", "", "").kind == K::kTrigger);
  CHECK(Classify(one, "", "application/x-www-form-urlencoded", "payload=x").kind == K::kTrigger);
  auto bad = Classify(one, "release", "application/json", "{\"action\":");
  CHECK(bad.kind == K::kBadRequest);
  CHECK(bad.reason.find("malformed JSON") != std::string::npos);
  CHECK(Classify(one, "", "application/json", R"({"action":5})").kind == K::kBadRequest);
  // Control characters in the action are not echoed.
  auto ctl = Classify(one, "", "application/json", "{\"action\":\"a\\u0001\\\"b\"}");
  CHECK(ctl.kind == K::kIgnored);
  CHECK(ctl.reason.find('\x01') == std::string::npos);
}

TEST_CASE("POST /deploy body") {
  auto ok = ParseDeployRequest(R"({"stacks":["web","db"],"pull":true})");
  REQUIRE(ok.request);
  CHECK(ok.request->stacks == std::vector<std::string>{"web", "db"});
  CHECK(ok.request->pull);
  CHECK_FALSE(ok.request->all_changed);
  CHECK(ParseDeployRequest(R"({"all_changed":true})").request);
  CHECK(ParseDeployRequest("").error.find("empty") != std::string::npos);
  CHECK(ParseDeployRequest("{").error.find("malformed JSON") != std::string::npos);
  CHECK(ParseDeployRequest("[]").error.find("object") != std::string::npos);
  CHECK(ParseDeployRequest(R"({"stacks":"web"})").error.find("array") != std::string::npos);
  CHECK(ParseDeployRequest(R"({"stacks":[1]})").error.find("strings") != std::string::npos);
  CHECK(ParseDeployRequest(R"({"pull":"yes","stacks":["a"]})").error.find("pull") != std::string::npos);
  CHECK(ParseDeployRequest(R"({"stack":["a"]})").error.find("unknown field") != std::string::npos);
  CHECK(ParseDeployRequest(R"({})").error.find("nothing to do") != std::string::npos);
  auto forced = ParseDeployRequest(R"({"stacks":["web"],"force":true})");
  REQUIRE(forced.request);
  CHECK(forced.request->force);
  CHECK_FALSE(ok.request->force);
  CHECK(ParseDeployRequest(R"({"all_changed":true,"force":true})").error.find("force") != std::string::npos);
  CHECK(ParseDeployRequest(R"({"stacks":["web"],"force":1})").error.find("force") != std::string::npos);
  auto over = ParseDeployRequest(R"({"stacks":["web"],"pull":true,"pull_uploaded":true})");
  REQUIRE(over.request);
  CHECK(over.request->pull_uploaded);
  CHECK_FALSE(ok.request->pull_uploaded);
  CHECK(ParseDeployRequest(R"({"stacks":["web"],"pull_uploaded":"yes"})").error.find("pull_uploaded") !=
        std::string::npos);
}

TEST_CASE("failed-auth limiter blocks after N per minute, per client") {
  using Clock = AuthFailureLimiter::Clock;
  AuthFailureLimiter lim(3);
  auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(lim.Blocked("10.0.0.1", t0));
    lim.RecordFailure("10.0.0.1", t0);
  }
  CHECK(lim.Blocked("10.0.0.1", t0));
  CHECK(lim.Blocked("10.0.0.1", t0 + std::chrono::seconds(59)));
  CHECK_FALSE(lim.Blocked("10.0.0.2", t0));  // others are not locked out
  CHECK_FALSE(lim.Blocked("10.0.0.1", t0 + std::chrono::seconds(60)));
  lim.RecordFailure("10.0.0.1", t0 + std::chrono::seconds(60));
  CHECK_FALSE(lim.Blocked("10.0.0.1", t0 + std::chrono::seconds(60)));
}

TEST_CASE("failed-auth limiter memory is bounded") {
  using Clock = AuthFailureLimiter::Clock;
  AuthFailureLimiter lim(1, 100);
  auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10000; ++i)
    lim.RecordFailure("c" + std::to_string(i), t0 + std::chrono::milliseconds(i));
  CHECK(lim.TrackedClients() <= 100);
  // The newest clients are still tracked and blocked.
  CHECK(lim.Blocked("c9999", t0 + std::chrono::seconds(10)));
  AuthFailureLimiter off(0);
  off.RecordFailure("x", t0);
  CHECK_FALSE(off.Blocked("x", t0));
}

TEST_CASE("loopback addresses") {
  CHECK(IsLoopbackAddress("127.0.0.1"));
  CHECK(IsLoopbackAddress("127.1.2.3"));
  CHECK(IsLoopbackAddress("::1"));
  CHECK(IsLoopbackAddress("::ffff:127.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("10.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("::ffff:10.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("1127.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("fe80::1"));
  CHECK_FALSE(IsLoopbackAddress(""));
}

TEST_CASE("client address: the peer, or what a trusted proxy reports in X-Forwarded-For") {
  ClientResolver none(std::vector<std::string>{});
  // No trusted proxies: the header is never read, whatever it says.
  CHECK(none.ClientOf("203.0.113.5", "198.51.100.1") == "203.0.113.5");
  CHECK(none.ClientOf("127.0.0.1", "198.51.100.1") == "127.0.0.1");

  ClientResolver proxy({"127.0.0.1", "10.0.0.0/8"});
  // A direct client that is no proxy cannot pick its address by sending the header.
  CHECK(proxy.ClientOf("203.0.113.5", "198.51.100.1") == "203.0.113.5");
  CHECK(proxy.ClientOf("::ffff:203.0.113.5", std::nullopt) == "203.0.113.5");
  // Through the proxy: the address it appended.
  CHECK(proxy.ClientOf("127.0.0.1", "198.51.100.7") == "198.51.100.7");
  CHECK(proxy.ClientOf("::ffff:127.0.0.1", " 198.51.100.7 ") == "198.51.100.7");
  // The client's own claims are left of that and ignored, spoofed loopback included.
  CHECK(proxy.ClientOf("127.0.0.1", "127.0.0.1, 1.2.3.4, 198.51.100.7") == "198.51.100.7");
  // Chains of trusted proxies are walked from the right.
  CHECK(proxy.ClientOf("127.0.0.1", "198.51.100.7, 10.1.2.3") == "198.51.100.7");
  CHECK(proxy.ClientOf("127.0.0.1", "spoofed, 198.51.100.7,10.1.2.3,") == "198.51.100.7");
  // Started on a proxy host itself: every hop trusted.
  CHECK(proxy.ClientOf("127.0.0.1", "127.0.0.1") == "127.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", std::nullopt) == "127.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", "") == "127.0.0.1");
  // Something that is no address where the proxy's report should be: the peer (client_test.cpp).
  CHECK(proxy.ClientOf("127.0.0.1", "unknown") == "127.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", std::string(500, 'x')) == "127.0.0.1");
  // IPv6 clients are canonical, so one client is one limiter key.
  CHECK(proxy.ClientOf("10.0.0.2", "2001:DB8:0::1") == "2001:db8::1");
}
