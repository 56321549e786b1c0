// Random secrets of auth/ (token secrets and ids, session ids, CSRF tokens), from OpenSSL.
#pragma once

#include <cstddef>
#include <string>

#include "util/error.hpp"

namespace podcd::auth {

// `bytes` random bytes (at most 64) as lowercase hex.
Expected<std::string> RandomHex(std::size_t bytes);

}  // namespace podcd::auth
