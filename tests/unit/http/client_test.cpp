// Who a request comes from (X-Forwarded-For behind trusted proxies), the connection caps, the
// failed-auth limiter's keys and the delivery keys: the pure parts of the webhook's defences.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/webhook.hpp"
#include "util/ip.hpp"

using namespace podcd;
using namespace podcd::http;

namespace {
using Lines = std::vector<std::string>;

std::string Forwarded(std::string_view text) {
  auto a = ip::ParseForwardedAddress(text);
  return a ? ip::ToString(*a) : "<none>";
}
}  // namespace

TEST_CASE("X-Forwarded-For entries: addresses with or without port and brackets; nothing else") {
  CHECK(Forwarded("192.0.2.7") == "192.0.2.7");
  CHECK(Forwarded("192.0.2.7:4711") == "192.0.2.7");
  CHECK(Forwarded("192.0.2.7:0") == "192.0.2.7");
  CHECK(Forwarded("192.0.2.7:65535") == "192.0.2.7");
  CHECK(Forwarded("2001:db8::1") == "2001:db8::1");
  CHECK(Forwarded("2001:DB8:0::1") == "2001:db8::1");
  CHECK(Forwarded("[2001:db8::1]") == "2001:db8::1");
  CHECK(Forwarded("[2001:db8::1]:443") == "2001:db8::1");
  CHECK(Forwarded("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(Forwarded("[::ffff:192.0.2.7]:80") == "192.0.2.7");
  for (const char* bad : {"",
                          "unknown",
                          "_hidden",
                          "localhost",
                          "192.0.2.7:",
                          "192.0.2.7:65536",
                          "192.0.2.7:x",
                          "192.0.2.7:-1",
                          "192.0.2.7:+1",
                          "192.0.2.7:000080",
                          "[192.0.2.7]",
                          "[192.0.2.7]:80",
                          "[2001:db8::1",
                          "[2001:db8::1]x",
                          "[2001:db8::1]:",
                          "[2001:db8::1]:99999",
                          "2001:db8::1:80:",
                          "fe80::1%eth0",
                          "[fe80::1%25eth0]",
                          " 192.0.2.7",
                          "192.0.2.7 ",
                          "192.0.2",
                          "1.2.3.4.5",
                          "[]",
                          "[]:80",
                          "::ffff:192.0.2.7:80"}) {
    INFO(bad);
    CHECK(Forwarded(bad) == "<none>");
  }
}

TEST_CASE("without trusted proxies X-Forwarded-For is never read") {
  ClientResolver none(std::vector<std::string>{});
  CHECK(none.ClientOf("203.0.113.5", Lines{"198.51.100.1"}) == "203.0.113.5");
  CHECK(none.ClientOf("127.0.0.1", Lines{"198.51.100.1", "10.0.0.1"}) == "127.0.0.1");
  CHECK(none.ClientOf("::ffff:127.0.0.1", Lines{"garbage"}) == "127.0.0.1");
  CHECK_FALSE(none.HasTrustedProxies());
}

TEST_CASE("behind trusted proxies: the right-most untrusted address over every X-Forwarded-For line") {
  ClientResolver proxy({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  // A proxy that adds a line of its own: the client's line comes first and is not believed.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"127.0.0.1", "203.0.113.9"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"198.51.100.1, 127.0.0.1", "203.0.113.9"}) == "203.0.113.9");
  // Two proxies, each adding its line; the nearer one is trusted.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"1.1.1.1", "203.0.113.9", "10.0.0.7"}) == "203.0.113.9");
  // A comma list in one line, in every spacing.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"1.1.1.1,203.0.113.9"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"1.1.1.1 ,\t203.0.113.9 , 10.1.1.1"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{" 203.0.113.9 "}) == "203.0.113.9");
  // Empty entries and empty lines are skipped.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"203.0.113.9,,", "", " , "}) == "203.0.113.9");
  // Ports and brackets, IPv6 canonical, IPv4-mapped as IPv4.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"203.0.113.9:51234"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"[2001:DB8::7]:443"}) == "2001:db8::7");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"2001:db8:0:0::7"}) == "2001:db8::7");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"2001:db8::7", "[fd00::1]"}) == "2001:db8::7");
  CHECK(proxy.ClientOf("::ffff:10.2.3.4", Lines{"::ffff:203.0.113.9"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("fd00::5", Lines{"203.0.113.9"}) == "203.0.113.9");
  // Garbage where a proxy's report should be: the peer, never the garbage or what lies left of it.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"203.0.113.9, unknown"}) == "127.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"203.0.113.9", "unknown"}) == "127.0.0.1");
  CHECK(proxy.ClientOf("10.0.0.1", Lines{"203.0.113.9, 10.0.0.2, x"}) == "10.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"203.0.113.9, 10.0.0.2:99999"}) == "127.0.0.1");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{std::string(5000, 'x')}) == "127.0.0.1");
  // Garbage left of the client is the client's own business.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"garbage", "203.0.113.9"}) == "203.0.113.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"garbage, 203.0.113.9"}) == "203.0.113.9");
  // Every hop trusted: the request started on a proxy host; no lines: the peer.
  CHECK(proxy.ClientOf("127.0.0.1", Lines{"10.0.0.9", "127.0.0.1"}) == "10.0.0.9");
  CHECK(proxy.ClientOf("127.0.0.1", Lines{}) == "127.0.0.1");
  // A peer that is no proxy: the header changes nothing, however it is spelled.
  CHECK(proxy.ClientOf("203.0.113.5", Lines{"127.0.0.1"}) == "203.0.113.5");
  CHECK(proxy.ClientOf("203.0.113.5", Lines{"10.0.0.1", "127.0.0.1"}) == "203.0.113.5");
  CHECK(proxy.Trusted("10.9.9.9"));
  CHECK_FALSE(proxy.Trusted("11.0.0.1"));
  CHECK_FALSE(proxy.Trusted("garbage"));
}

TEST_CASE("the X-Forwarded-For scanner reads every line of a header block, in any pieces") {
  const std::string block =
      "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 127.0.0.1\r\n"
      "x-forwarded-FOR:\t203.0.113.9 , 10.0.0.1 \r\nX-Forwarded-Forx: 1.1.1.1\r\nContent-Length: 2\r\n\r\n{}";
  const Lines want{"127.0.0.1", "203.0.113.9 , 10.0.0.1"};
  for (std::size_t piece = 1; piece <= block.size(); ++piece) {
    INFO(piece);
    ForwardedForScanner s(16 << 10);
    CHECK_FALSE(s.Started());
    for (std::size_t at = 0; at < block.size(); at += piece)
      s.Feed(std::string_view(block).substr(at, piece));
    REQUIRE(s.Complete());
    REQUIRE(s.Lines());
    CHECK(*s.Lines() == want);
  }
  ForwardedForScanner s(16 << 10);
  s.Feed("GET / HTTP/1.1\r\nHost: x\r\n");
  CHECK_FALSE(s.Complete());
  CHECK_FALSE(s.Lines());
  s.Feed("\r\n");
  REQUIRE(s.Lines());
  CHECK(s.Lines()->empty());
  // After the block nothing is read until the next request.
  s.Feed("X-Forwarded-For: 1.2.3.4\r\n\r\n");
  CHECK(s.Lines()->empty());
  s.Reset();
  s.Feed("\r\nGET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");  // blank lines before a request
  CHECK(s.Lines() == Lines{"1.2.3.4"});
}

TEST_CASE("a header block the scanner cannot read has no lines") {
  for (const char* bad : {"GET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n  , 5.6.7.8\r\n\r\n",  // folded
                          "GET / HTTP/1.1\r\n\tX-Forwarded-For: 1.2.3.4\r\n\r\n",
                          "GET / HTTP/1.1\r\nno colon here\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
                          "GET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\nX-Forwarded-For: 5.6.7.8\r\n\r\n",
                          "GET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\rX: y\r\n\r\n"}) {
    INFO(bad);
    ForwardedForScanner s(16 << 10);
    s.Feed(bad);
    CHECK(s.Complete());
    CHECK_FALSE(s.Lines());
  }
  ForwardedForScanner s(100);
  s.Feed("GET / HTTP/1.1\r\nX-Forwarded-For: " + std::string(200, '1'));
  CHECK(s.Complete());  // too long: given up, not waited for
  CHECK_FALSE(s.Lines());
  s.Feed("\r\n\r\n");
  CHECK_FALSE(s.Lines());
  s.Reset();
  s.Feed("GET / HTTP/1.1\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n");
  CHECK(s.Lines() == Lines{"9.9.9.9"});
}

TEST_CASE("connection caps: in total and per address; trusted proxies only in total") {
  ConnectionTable t(5, 2);
  CHECK(t.Open("a", false));
  CHECK(t.Open("a", false));
  CHECK_FALSE(t.Open("a", false));  // per address
  CHECK(t.Open("b", false));
  CHECK(t.Open("p", true));
  CHECK(t.Open("p", true));  // exempt from the per-address cap
  CHECK(t.Total() == 5);
  CHECK_FALSE(t.Open("c", false));  // in total
  CHECK_FALSE(t.Open("p", true));
  t.Close("a");
  CHECK(t.From("a") == 1);
  CHECK(t.Open("c", false));
  t.Close("nobody");  // never counted: nothing changes
  CHECK(t.Total() == 5);
  for (const char* k : {"a", "b", "c", "p", "p"}) t.Close(k);
  CHECK(t.Total() == 0);
  CHECK(t.Addresses() == 0);  // no empty entries kept
  CHECK(t.Open("a", false));
}

TEST_CASE("the limiter counts an IPv6 client by its /64") {
  CHECK(LimiterKey("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(LimiterKey("2001:db8:1:2::ffff") == "2001:db8:1:2::/64");
  CHECK(LimiterKey("203.0.113.9") == "203.0.113.9");
  CHECK(LimiterKey("not an address") == "not an address");
  using Clock = AuthFailureLimiter::Clock;
  AuthFailureLimiter lim(2);
  auto t0 = Clock::time_point{} + std::chrono::hours(1);
  lim.RecordFailure("2001:db8:1:2::1", t0);
  lim.RecordFailure("2001:db8:1:2::2", t0);
  CHECK(lim.Blocked("2001:db8:1:2::3", t0));
  CHECK_FALSE(lim.Blocked("2001:db8:1:3::1", t0));
}

TEST_CASE("every delivery id has a key the store keeps") {
  CHECK(DeliveryKey("").empty());
  CHECK(DeliveryKey("72d3162e-cc78-11e3-81ab-4c9367dc0958") == "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  CHECK(DeliveryKey(std::string(200, 'd')) == std::string(200, 'd'));
  for (const std::string& odd : {std::string("with space"), std::string(201, 'd'), std::string("tab\there"),
                                 std::string("caf\xc3\xa9"), std::string("nul\0x", 5)}) {
    auto key = DeliveryKey(odd);
    CHECK(key.starts_with("sha256-"));
    CHECK(key.size() == 7 + 64);
    CHECK(key == DeliveryKey(odd));  // the same id, the same key
  }
  CHECK(DeliveryKey("a b") != DeliveryKey("a  b"));
}

TEST_CASE("a header block that ends right at the scanner's bound is read, whatever the pieces") {
  // Found by the forwarded fuzzer: byte by byte, the block was given up before its end arrived.
  std::string block = "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9\r\nX-Pad: ";
  block += std::string(100 + 4 - block.size() - 4, 'p') + "\r\n\r\n";
  REQUIRE(block.size() == 104);
  ForwardedForScanner whole(100);
  whole.Feed(block);
  ForwardedForScanner bytes(100);
  for (char c : block) bytes.Feed(std::string_view(&c, 1));
  CHECK(whole.Lines() == Lines{"203.0.113.9"});
  CHECK(bytes.Lines() == whole.Lines());
  ForwardedForScanner longer(100);
  longer.Feed(block.substr(0, 50) + "x" + block.substr(50));  // one byte past the bound
  CHECK(longer.Complete());
  CHECK_FALSE(longer.Lines());
}
