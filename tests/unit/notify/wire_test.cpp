// The notifier's lines to and from `podcd __notify` read back as written, whatever the bytes.
#include "notify/wire.hpp"

#include <catch2/catch.hpp>

using namespace podcd::notify;

TEST_CASE("a request line reads back as written") {
  SendRequest r;
  r.id = 42;
  r.out.target = "ops";
  r.out.url = "https://example.net/hook?token=abc";
  r.out.headers = {{"Content-Type", "application/json"}, {"X-Podcd-Signature-256", "sha256=00"}};
  r.out.body = "{\"event\":\"failed\"}\nsecond line \x01 \xff";
  const std::string line = EncodeRequest(r);
  CHECK(line.find('\n') == std::string::npos);
  auto back = DecodeRequest(line);
  REQUIRE(back);
  CHECK(back->id == 42);
  CHECK(back->out.target == "ops");
  CHECK(back->out.method == "POST");
  CHECK(back->out.url == r.out.url);
  CHECK(back->out.headers == r.out.headers);
  CHECK(back->out.body.starts_with("{\"event\":\"failed\"}\nsecond line \x01 "));
  CHECK_FALSE(DecodeRequest("{\"id\":1}"));
  CHECK_FALSE(DecodeRequest("[[[["));
}

TEST_CASE("a result line reads back as written") {
  SendResult r{7, false, 500, "", 3};
  auto back = DecodeResult(EncodeResult(r));
  REQUIRE(back);
  CHECK(back->id == 7);
  CHECK_FALSE(back->sent);
  CHECK(back->status == 500);
  CHECK(back->tries == 3);
  auto ok = DecodeResult(EncodeResult({8, true, 204, "", 1}));
  REQUIRE(ok);
  CHECK(ok->sent);
}
