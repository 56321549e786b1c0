#include "util/sha256.hpp"

#include <catch2/catch.hpp>

using namespace podcd;

TEST_CASE("sha256 of known vectors") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.HexDigest() == Sha256Hex("abc"));
  CHECK(HexEncode(std::string("\x00\xff", 2)) == "00ff");
}

TEST_CASE("HMAC-SHA256 of the RFC 4231 vectors") {
  auto hex = [](const Sha256Digest& d) {
    return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  };
  // Test case 2: a short key.
  CHECK(hex(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  CHECK(hex(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The keyed form gives the same digests, body after body.
  const HmacSha256Key jefe("Jefe");
  CHECK(hex(jefe.Mac("what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hex(jefe.Mac("what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hex(HmacSha256Key(std::string(131, '\xaa'))
                .Mac("Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(jefe.Mac("") == HmacSha256("Jefe", ""));
}
