// The bytes of an answer the server writes itself.
#include "http/wire.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace podcd::http;

TEST_CASE("an answer's bytes: status line, fields in order, length, body") {
  CHECK(WireBytes(HttpMinor::k1, 401, "Unauthorized", "application/json", "", {},
                  R"({"error":"invalid or missing signature"})") ==
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
        R"({"error":"invalid or missing signature"})");
  std::vector<WireField> fields{{"Allow", "GET"}, {"Retry-After", "60"}};
  CHECK(WireBytes(HttpMinor::k0, 405, "Method Not Allowed", "application/json", "keep-alive", fields, "{}") ==
        "HTTP/1.0 405 Method Not Allowed\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
        "Allow: GET\r\nRetry-After: 60\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(WireBytes(HttpMinor::k1, 200, "OK", "text/plain", "close", {}, "") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}
