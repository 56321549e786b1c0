#include "auth/random.hpp"

#include <openssl/rand.h>

#include <array>

#include "util/sha256.hpp"

namespace podcd::auth {

Expected<std::string> RandomHex(std::size_t bytes) {
  std::array<unsigned char, 64> buf{};
  if (bytes > buf.size() || RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1)
    return Fail(ErrorCode::kInternal, "no random bytes (OpenSSL RAND_bytes failed)");
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), bytes));
}

}  // namespace podcd::auth
