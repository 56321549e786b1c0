// Form bodies and query strings, as browsers write them.
#include "http/form.hpp"

#include <catch2/catch.hpp>

using namespace podcd::http;

TEST_CASE("form: values are found by name and decoded; absent names are nullopt") {
  CHECK(FormValue("username=alice&password=p%40ss+word", "password") == "p@ss word");
  CHECK(FormValue("username=alice&password=x", "username") == "alice");
  CHECK(FormValue("a=1&a=2", "a") == "1");
  CHECK(FormValue("csrf=&x=1", "csrf") == "");
  CHECK(FormValue("csrf&x=1", "csrf") == "");
  CHECK_FALSE(FormValue("x=1", "csrf").has_value());
  CHECK_FALSE(FormValue("", "csrf").has_value());
  CHECK(FormValue("na%6De=v", "name") == "v");
  // A broken escape is kept as written, never read past the end.
  CHECK(FormValue("v=%4", "v") == "%4");
  CHECK(FormValue("v=%zz%", "v") == "%zz%");
  CHECK(FormValue("v=%00x", "v") == std::string("\0x", 2));
}

TEST_CASE("form: encoding keeps unreserved bytes and escapes the rest") {
  CHECK(FormEncoded("web-1_a.b~") == "web-1_a.b~");
  CHECK(FormEncoded("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  CHECK(FormValue("v=" + FormEncoded("x&y=z %"), "v") == "x&y=z %");
}
