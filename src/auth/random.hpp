// Random secrets of auth/ (token secrets and ids, session ids, CSRF tokens, salts), from the kernel.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "util/error.hpp"

namespace podcd::auth {

// Fills `out` with random bytes from the kernel's CSPRNG.
Expected<void> RandomBytes(std::span<unsigned char> out);
// `bytes` random bytes (at most 64) as lowercase hex.
Expected<std::string> RandomHex(std::size_t bytes);

}  // namespace podcd::auth
