// An answer as the bytes on the wire, for the answers the server writes itself (server.cpp).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http/persistence.hpp"

namespace podcd::http {

struct WireField {
  std::string_view name;
  std::string_view value;
};

// "HTTP/1.x <status> <reason>", Content-Type, Connection (left out when `connection` is
// empty), `fields` in order, Content-Length, the blank line and the body.
[[nodiscard]] std::string WireBytes(HttpMinor version, int status, std::string_view reason,
                                    std::string_view content_type, std::string_view connection,
                                    std::span<const WireField> fields, std::string_view body);

}  // namespace podcd::http
