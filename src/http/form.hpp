// application/x-www-form-urlencoded bodies (the dashboard's forms) and query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace podcd::http {

// The decoded value of the first field `name` ('+' is a space, %XX a byte); nullopt when absent.
std::optional<std::string> FormValue(std::string_view body, std::string_view name);

// `text` with every byte but A-Z a-z 0-9 - _ . ~ as %XX: a value safe in a query string.
std::string FormEncoded(std::string_view text);

}  // namespace podcd::http
