#include "util/base64.hpp"

#include <catch2/catch.hpp>

using namespace podcd;

TEST_CASE("Base64 round trip in both alphabets", "[util]") {
  CHECK(Base64Encode("user:pass", false) == "dXNlcjpwYXNz");
  CHECK(Base64Encode("a", false) == "YQ==");
  CHECK(Base64Encode("ab", false) == "YWI=");
  CHECK(Base64Encode("\xfb\xff", false) == "+/8=");
  CHECK(Base64Encode("\xfb\xff", true) == "-_8=");
  CHECK(Base64Decode("-_8=") == std::string("\xfb\xff"));
  CHECK(Base64Decode("+/8") == std::string("\xfb\xff"));
  CHECK(Base64Decode("dXNlcjpwYXNz") == std::string("user:pass"));
  CHECK_FALSE(Base64Decode("not base64!").has_value());
}
