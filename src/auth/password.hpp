// Password hashes for the users file: Argon2id (libargon2) in the PHC string form for new
// hashes; IPD's bare, unsalted SHA-256 hex accepted for migration only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace podcd::auth {

// The cost of new hashes: RFC 9106's second recommended option lowered to what OWASP's
// password storage guidance names as a minimum for Argon2id (19 MiB, two passes, one lane):
// about 50 ms on one core here, and 19 MiB for that time only.
struct Argon2Cost {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t passes = 2;
  std::uint32_t lanes = 1;
};

enum class HashKind : std::uint8_t {
  kArgon2id,      // $argon2id$v=19$m=...,t=...,p=...$salt$hash
  kLegacySha256,  // 64 hex digits: sha256(password), no salt (IPD's AUTH_DB)
  kUnknown,
};

HashKind KindOf(std::string_view encoded);

// A new Argon2id hash of `password` with a random 16-byte salt, as a PHC string.
Expected<std::string> HashPassword(std::string_view password, const Argon2Cost& cost = {});

// True when `password` matches `encoded`; false on a mismatch or a hash it cannot read. The
// comparison takes the same time wherever the first difference is.
bool VerifyPassword(std::string_view encoded, std::string_view password);

}  // namespace podcd::auth
