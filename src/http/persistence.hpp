// Whether an HTTP/1.x connection stays open after its answer (RFC 9112 §9.3).
#pragma once

#include <optional>
#include <string_view>

namespace podcd::http {

enum class HttpMinor { k0, k1 };  // HTTP/1.0, HTTP/1.1

// HTTP/1.1 connections persist unless the client sends the `close` option; HTTP/1.0 ones
// only when it sends `keep-alive`. `connection` is the Connection field's value as received
// (a comma-separated list of options, matched case-insensitively), absent when it sent none.
[[nodiscard]] bool KeepsAlive(HttpMinor version, std::optional<std::string_view> connection);

}  // namespace podcd::http
