#include "auth/random.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>

#include "util/sha256.hpp"

namespace podcd::auth {

// The kernel's CSPRNG (getrandom(2)), not OpenSSL's: its first use would set up OpenSSL's random
// generator and page in about 2 MB of libcrypto, which the daemon's idle memory would keep.
Expected<void> RandomBytes(std::span<unsigned char> out) {
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::getrandom(out.data() + got, out.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(ErrorCode::kInternal, "no random bytes (getrandom failed)");
    got += static_cast<std::size_t>(n);
  }
  return {};
}

Expected<std::string> RandomHex(std::size_t bytes) {
  std::array<unsigned char, 64> buf{};
  if (bytes > buf.size()) return Fail(ErrorCode::kInternal, "too many random bytes asked for");
  if (auto r = RandomBytes(std::span(buf.data(), bytes)); !r) return std::unexpected(r.error());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), bytes));
}

}  // namespace podcd::auth
