// web::Gzip gives what gunzip reads back; Accept-Encoding is read as RFC 9110 says.
#include "web/gzip.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

using namespace podcd::web;

namespace {
std::string Gunzip(const std::string& gz) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}
}  // namespace

TEST_CASE("gzip: a gzip member (magic bytes) that inflates back to the input, smaller when repetitive") {
  std::string page;
  for (int i = 0; i < 2000; ++i)
    page += "<tr><td><a href=\"/stacks/stack-" + std::to_string(i) + "\">x</a>\n";
  auto gz = Gzip(page);
  REQUIRE(gz);
  REQUIRE(gz->size() > 10);
  CHECK(static_cast<unsigned char>((*gz)[0]) == 0x1f);
  CHECK(static_cast<unsigned char>((*gz)[1]) == 0x8b);
  CHECK(gz->size() * 5 < page.size());
  CHECK(Gunzip(*gz) == page);
  auto empty = Gzip("");
  REQUIRE(empty);
  CHECK(Gunzip(*empty).empty());
}

TEST_CASE("gzip: Accept-Encoding") {
  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("gzip, deflate, br"));
  CHECK(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  CHECK(AcceptsGzip("*"));
  CHECK(AcceptsGzip("identity, *;q=0.1"));
  CHECK_FALSE(AcceptsGzip(""));
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("br, deflate"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip; q=0.000"));
  CHECK_FALSE(AcceptsGzip("*, gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzipx"));
}
