// Base64 (RFC 4648), the one implementation: registry auth headers (URL alphabet), auth.json
// entries and known_hosts keys (standard alphabet).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace podcd {

// With padding; `url_alphabet` uses '-' and '_' for '+' and '/'.
[[nodiscard]] std::string Base64Encode(std::string_view data, bool url_alphabet);

// Either alphabet, padding optional, line breaks skipped; nullopt on any other character.
[[nodiscard]] std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace podcd
