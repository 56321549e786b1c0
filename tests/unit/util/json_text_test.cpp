#include "util/json_text.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "util/json.hpp"

using namespace podcd;

namespace {
const std::string kFffd = "\xef\xbf\xbd";
std::string Fffd(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kFffd;
  return out;
}
}  // namespace

TEST_CASE("well-formed UTF-8 passes unchanged") {
  for (std::string s : {std::string(), std::string("plain"), std::string("caf\xc3\xa9"),
                        std::string("\xe2\x82\xac \xef\xbf\xbd"), std::string("\xf0\x9d\x84\x9e"),
                        std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"),
                        std::string("\xf4\x8f\xbf\xbf"), std::string("nul\0inside", 10)}) {
    CHECK(json::IsValidUtf8(s));
    CHECK(json::ValidUtf8(s) == s);
  }
}

TEST_CASE("each maximal ill-formed subpart becomes one U+FFFD") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\x80", Fffd(1)},  // lone continuation
      {"a\xbf"
       "b",
       "a" + Fffd(1) + "b"},                                    // lone continuation between ASCII
      {"\x80\x80", Fffd(2)},                                    // two lone continuations
      {"\xe2\x82", Fffd(1)},                                    // truncated at the end
      {"\xe2\x82z", Fffd(1) + "z"},                             // truncated before ASCII
      {"\xf0\x9d\x84", Fffd(1)},                                // truncated 4-byte sequence
      {"\xc3", Fffd(1)},                                        // a lead byte alone
      {"\xc0\xaf", Fffd(2)},                                    // overlong '/' (C0 never starts one)
      {"\xc1\xbf", Fffd(2)},                                    // overlong
      {"\xe0\x80\xaf", Fffd(3)},                                // overlong 3-byte form
      {"\xf0\x80\x80\xaf", Fffd(4)},                            // overlong 4-byte form
      {"\xed\xa0\x80", Fffd(3)},                                // a surrogate
      {"\xf4\x90\x80\x80", Fffd(4)},                            // past U+10FFFF
      {"\xf5\x80", Fffd(2)},                                    // F5 never starts one
      {"\xff", Fffd(1)},                                        // 0xFF
      {"\xfe\xff", Fffd(2)},                                    // a UTF-16 byte order mark read as bytes
      {"x\xe2\x82\xac\xe2y", "x\xe2\x82\xac" + Fffd(1) + "y"},  // good, then truncated
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK_FALSE(json::IsValidUtf8(c.in));
    CHECK(json::ValidUtf8(c.in) == c.out);
    CHECK(json::IsValidUtf8(json::ValidUtf8(c.in)));
  }
}

TEST_CASE("the escaper keeps its form for valid strings") {
  // The forms the API answers and log lines have always had: short escapes for \n \r \t,
  // lowercase \u00xx for the other control characters (\b and \f too), '/' and non-ASCII kept.
  CHECK(json::Quoted("a\"b\\c\nd\re\tf") == R"("a\"b\\c\nd\re\tf")");
  CHECK(json::Quoted(std::string("\x01\x08\x0c\x1f\0", 5)) == R"("\u0001\u0008\u000c\u001f\u0000")");
  CHECK(json::Quoted("a/b \x7f caf\xc3\xa9") == "\"a/b \x7f caf\xc3\xa9\"");
  std::string out = "x";
  json::AppendEscaped(out, "\"");
  CHECK(out == "x\\\"");
}

TEST_CASE("the escaper's output is valid JSON for any bytes") {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& s : {all, std::string("\xe2\x82"), std::string("\xc0\xaf\"\\\xff")}) {
    auto text = json::Quoted(s);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    INFO(text);
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d.IsString());
    CHECK(std::string(d.GetString(), d.GetStringLength()) == json::ValidUtf8(s));
  }
}

TEST_CASE("GetInt: doubles out of the 64-bit range read as 0, not undefined behaviour") {
  // Found by the state fuzzer: a record with "queued_at_ms":1e300 (UBSan: value out of range).
  rapidjson::Document d;
  const std::string text =
      R"({"big":1e300,"small":-1e300,"edge":9223372036854775808.0,"ok":1.5e3,"neg":-2.5})";
  d.Parse(text.data(), text.size());
  REQUIRE(d.IsObject());
  CHECK(podcd::json::GetInt(d, "big") == 0);
  CHECK(podcd::json::GetInt(d, "small") == 0);
  CHECK(podcd::json::GetInt(d, "edge") == 0);
  CHECK(podcd::json::GetInt(d, "ok") == 1500);
  CHECK(podcd::json::GetInt(d, "neg") == -2);
}
