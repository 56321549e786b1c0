#include "auth/password.hpp"

#include <argon2.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <vector>

#include "auth/random.hpp"
#include "util/sha256.hpp"

namespace podcd::auth {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

bool IsLowerOrUpperHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsBase64NoPad(std::string_view s, std::size_t min_size) {
  return s.size() >= min_size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                  c == '/';
         });
}

bool IsParameter(std::string_view s, std::string_view name) {
  if (!s.starts_with(name) || s.size() == name.size() || s.size() > name.size() + 10) return false;
  s.remove_prefix(name.size());
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, salt and hash unpadded base64.
bool IsArgon2idPhc(std::string_view s) {
  std::vector<std::string_view> parts;
  for (std::size_t at = 0; at <= s.size();) {
    const auto next = std::min(s.find('$', at), s.size());
    parts.push_back(s.substr(at, next - at));
    at = next + 1;
  }
  if (parts.size() != 6 || !parts[0].empty() || parts[1] != "argon2id" || parts[2] != "v=19") return false;
  std::vector<std::string_view> costs;
  for (std::size_t at = 0; at <= parts[3].size();) {
    const auto next = std::min(parts[3].find(',', at), parts[3].size());
    costs.push_back(parts[3].substr(at, next - at));
    at = next + 1;
  }
  return costs.size() == 3 && IsParameter(costs[0], "m=") && IsParameter(costs[1], "t=") &&
         IsParameter(costs[2], "p=") && IsBase64NoPad(parts[4], 11) && IsBase64NoPad(parts[5], 22);
}

}  // namespace

HashKind KindOf(std::string_view encoded) {
  if (IsArgon2idPhc(encoded)) return HashKind::kArgon2id;
  if (encoded.size() == 2 * kSha256Size && std::all_of(encoded.begin(), encoded.end(), IsLowerOrUpperHex))
    return HashKind::kLegacySha256;
  return HashKind::kUnknown;
}

Expected<std::string> HashPassword(std::string_view password, const Argon2Cost& cost) {
  if (password.empty()) return Fail(ErrorCode::kInvalidArgument, "the password is empty");
  std::array<unsigned char, kSaltBytes> salt{};
  if (auto r = RandomBytes(salt); !r) return std::unexpected(r.error());
  const std::size_t length =
      argon2_encodedlen(cost.passes, cost.memory_kib, cost.lanes, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> out(length);
  const int rc =
      argon2id_hash_encoded(cost.passes, cost.memory_kib, cost.lanes, password.data(), password.size(),
                            salt.data(), salt.size(), kHashBytes, out.data(), out.size());
  if (rc != ARGON2_OK)
    return Fail(ErrorCode::kInternal, std::string("argon2id: ") + argon2_error_message(rc));
  return std::string(out.data());
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  switch (KindOf(encoded)) {
    case HashKind::kArgon2id: {
      const std::string text(encoded);  // argon2 wants a NUL-terminated string
      return argon2id_verify(text.c_str(), password.data(), password.size()) == ARGON2_OK;
    }
    case HashKind::kLegacySha256: {
      std::string want(encoded);
      std::transform(want.begin(), want.end(), want.begin(),
                     [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
      const std::string got = Sha256Hex(password);
      return CRYPTO_memcmp(want.data(), got.data(), got.size()) == 0;
    }
    case HashKind::kUnknown: return false;
  }
  return false;
}

}  // namespace podcd::auth
