// When a connection stays open after its answer: RFC 9112 §9.3, and HTTP/1.0's keep-alive.
#include "http/persistence.hpp"

#include <catch2/catch.hpp>

using namespace podcd::http;

TEST_CASE("HTTP/1.1 persists unless the client sends close") {
  CHECK(KeepsAlive(HttpMinor::k1, std::nullopt));
  CHECK(KeepsAlive(HttpMinor::k1, ""));
  CHECK(KeepsAlive(HttpMinor::k1, "keep-alive"));
  CHECK(KeepsAlive(HttpMinor::k1, "Upgrade"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, "close"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, "Close"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, "CLOSE"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, " close "));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, "TE, close"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k1, "keep-alive,\tclose"));
  // Options are whole tokens.
  CHECK(KeepsAlive(HttpMinor::k1, "closed"));
  CHECK(KeepsAlive(HttpMinor::k1, "x-close, enclose"));
}

TEST_CASE("HTTP/1.0 persists only with keep-alive, and close still wins") {
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, std::nullopt));
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, ""));
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, "TE"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, "keep-alive-ish"));
  CHECK(KeepsAlive(HttpMinor::k0, "keep-alive"));
  CHECK(KeepsAlive(HttpMinor::k0, "Keep-Alive"));
  CHECK(KeepsAlive(HttpMinor::k0, "TE , Keep-Alive"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, "keep-alive, close"));
  CHECK_FALSE(KeepsAlive(HttpMinor::k0, ",,close,"));
}
