// Password hashes: known-answer vectors from outside this code, and what a new hash looks like.
#include "auth/password.hpp"

#include <catch2/catch.hpp>

using namespace podcd::auth;

namespace {
// The reference implementation's Argon2id vector (phc-winner-argon2, src/test.c): password
// "password", salt "somesalt", t=2, m=65536 KiB, p=1, 32 bytes.
constexpr const char* kReference =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
// sha256("password"), as IPD's AUTH_DB stores it.
constexpr const char* kLegacy = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
}  // namespace

TEST_CASE("password: the reference Argon2id vector verifies, and nothing else does") {
  CHECK(KindOf(kReference) == HashKind::kArgon2id);
  CHECK(VerifyPassword(kReference, "password"));
  CHECK_FALSE(VerifyPassword(kReference, "passwore"));
  CHECK_FALSE(VerifyPassword(kReference, ""));
  CHECK_FALSE(VerifyPassword(kReference, std::string("password\0", 9)));
  // One character of the hash changed.
  std::string tampered = kReference;
  tampered.back() = tampered.back() == 'c' ? 'd' : 'c';
  CHECK_FALSE(VerifyPassword(tampered, "password"));
}

TEST_CASE("password: IPD's unsalted SHA-256 hex verifies, in either case, for migration") {
  CHECK(KindOf(kLegacy) == HashKind::kLegacySha256);
  CHECK(VerifyPassword(kLegacy, "password"));
  std::string upper = kLegacy;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(VerifyPassword(upper, "password"));
  CHECK_FALSE(VerifyPassword(kLegacy, "Password"));
}

TEST_CASE("password: what is neither kind never verifies") {
  for (const char* bad :
       {"", "password", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$AAAA", "$2y$10$abcdefghijkl",
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d",  // 63 digits
        "$argon2id$v=19$m=65536", "zz884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}) {
    INFO(bad);
    CHECK_FALSE(VerifyPassword(bad, "password"));
    CHECK_FALSE(VerifyPassword(bad, ""));
  }
}

TEST_CASE("password: a new hash is a salted Argon2id PHC string at the configured cost") {
  const Argon2Cost cheap{1024, 1, 1};  // tests stay fast; the default is checked below
  auto a = HashPassword("correct horse", cheap);
  auto b = HashPassword("correct horse", cheap);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
  CHECK(*a != *b);  // a fresh salt each time
  CHECK(VerifyPassword(*a, "correct horse"));
  CHECK(VerifyPassword(*b, "correct horse"));
  CHECK_FALSE(VerifyPassword(*a, "correct horse "));
  CHECK_FALSE(HashPassword("", cheap).has_value());
  CHECK(Argon2Cost{}.memory_kib == 19456);
  CHECK(Argon2Cost{}.passes == 2);
  auto standard = HashPassword("x");
  REQUIRE(standard.has_value());
  CHECK(standard->starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
}

TEST_CASE("password: only a well-formed Argon2id PHC string counts as one") {
  CHECK(KindOf(kReference) == HashKind::kArgon2id);
  for (const char* bad :
       {"$argon2id$not-really-a-hash", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ",
        "$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=x,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$"}) {
    INFO(bad);
    CHECK(KindOf(bad) == HashKind::kUnknown);
  }
}
