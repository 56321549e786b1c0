#include "util/ip.hpp"

#include <catch2/catch.hpp>

using namespace podcd;

namespace {
bool In(std::string_view network, std::string_view address) {
  auto n = ip::ParseNetwork(network);
  auto a = ip::ParseAddress(address);
  REQUIRE(n);
  REQUIRE(a);
  return n->Contains(*a);
}
}  // namespace

TEST_CASE("addresses and networks parse in both families; nonsense does not") {
  for (const char* good : {"127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "fd00::/8", "::/0", "192.0.2.7/32",
                           "2001:db8::1/128", "::ffff:10.0.0.0/104"}) {
    INFO(good);
    CHECK(ip::ParseNetwork(good));
  }
  for (const char* bad : {"", "localhost", "10.0.0.0/33", "::1/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x",
                          "10.0.0.0/8/8", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/-1", "::ffff:10.0.0.0/95"}) {
    INFO(bad);
    CHECK_FALSE(ip::ParseNetwork(bad));
  }
  CHECK_FALSE(ip::ParseAddress("10.0.0.0/8"));  // an address has no prefix
}

TEST_CASE("a network contains exactly the addresses its prefix covers") {
  CHECK(In("10.0.0.0/8", "10.255.1.2"));
  CHECK_FALSE(In("10.0.0.0/8", "11.0.0.1"));
  CHECK(In("192.168.4.0/22", "192.168.7.255"));
  CHECK_FALSE(In("192.168.4.0/22", "192.168.8.0"));
  CHECK(In("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(In("127.0.0.1", "127.0.0.2"));
  CHECK(In("0.0.0.0/0", "203.0.113.9"));
  CHECK(In("fd00::/8", "fd12:3456::1"));
  CHECK_FALSE(In("fd00::/8", "fe80::1"));
  CHECK(In("2001:db8::/33", "2001:db8:7fff::1"));
  CHECK_FALSE(In("2001:db8::/33", "2001:db8:8000::1"));
  // Families never match each other, except through the IPv4-mapped spelling.
  CHECK_FALSE(In("::/0", "127.0.0.1"));
  CHECK_FALSE(In("0.0.0.0/0", "::1"));
  CHECK(In("127.0.0.0/8", "::ffff:127.0.0.1"));
  CHECK(In("::ffff:10.0.0.0/104", "10.1.2.3"));
}

TEST_CASE("an address prints canonically") {
  CHECK(ip::ToString(*ip::ParseAddress("::ffff:192.0.2.7")) == "192.0.2.7");
  CHECK(ip::ToString(*ip::ParseAddress("2001:0db8:0000::0001")) == "2001:db8::1");
}

// Found by a 14-minute run of the forwarded fuzzer: inet_pton stops at a NUL byte, so an
// address followed by a NUL and anything at all was taken as that address (an
// X-Forwarded-For entry read from the request's bytes can hold one).
TEST_CASE("ip: text with a NUL byte is no address, whatever comes before it") {
  using namespace std::string_literals;
  CHECK_FALSE(podcd::ip::ParseAddress("19.0.0.11\0\0\0\0\xfc\xcc"
                                      "1):"s)
                  .has_value());
  CHECK_FALSE(podcd::ip::ParseAddress("10.0.0.1\0"s).has_value());
  CHECK_FALSE(podcd::ip::ParseAddress("::1\0garbage"s).has_value());
  CHECK_FALSE(podcd::ip::ParseForwardedAddress("10.0.0.1\0:80"s).has_value());
  CHECK_FALSE(podcd::ip::ParseNetwork("10.0.0.0\0/8"s).has_value());
  CHECK(podcd::ip::ParseAddress("10.0.0.1").has_value());
}
