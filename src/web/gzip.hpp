// gzip (RFC 1952) for answers whose request's Accept-Encoding allows it: the front page for
// 500 stacks shrinks about tenfold (bench/dashboard_bench prints both sizes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace podcd::web {

// `data` gzip-compressed at `level` (1 fast .. 9 small; 6 is zlib's default); nullopt when
// zlib fails (out of memory).
std::optional<std::string> Gzip(std::string_view data, int level = 6);

// True when an Accept-Encoding header value accepts gzip (a "gzip" or "*" entry whose q is
// not 0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace podcd::web
