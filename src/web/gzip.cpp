#include "web/gzip.hpp"

#include <zlib.h>

#include <cctype>

namespace podcd::web {

std::optional<std::string> Gzip(std::string_view data, int level) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));  // NOLINT: zlib's API is not const
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// q=0, q=0.0, q=0.000: refused.
bool Refused(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=') continue;
    std::string_view q = Trim(p.substr(2));
    if (q.empty() || q[0] != '0') return false;
    return q.find_first_not_of("0.") == std::string_view::npos;
  }
  return false;
}
}  // namespace

bool AcceptsGzip(std::string_view header) {
  bool star = false, gzip = false, gzip_refused = false;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view entry = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto semi = entry.find(';');
    const std::string_view coding = Trim(entry.substr(0, semi));
    const bool refused = semi != std::string_view::npos && Refused(entry.substr(semi + 1));
    if (EqualsNoCase(coding, "gzip") || EqualsNoCase(coding, "x-gzip")) {
      (refused ? gzip_refused : gzip) = true;
    } else if (coding == "*" && !refused) {
      star = true;
    }
  }
  return gzip || (star && !gzip_refused);
}

}  // namespace podcd::web
