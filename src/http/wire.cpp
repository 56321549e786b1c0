#include "http/wire.hpp"

namespace podcd::http {

std::string WireBytes(HttpMinor version, int status, std::string_view reason, std::string_view content_type,
                      std::string_view connection, std::span<const WireField> fields, std::string_view body) {
  std::string out;
  out.reserve(128 + body.size());
  out += version == HttpMinor::k0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  auto field = [&](std::string_view name, std::string_view value) {
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  };
  field("Content-Type", content_type);
  if (!connection.empty()) field("Connection", connection);
  for (const auto& f : fields) field(f.name, f.value);
  field("Content-Length", std::to_string(body.size()));
  out += "\r\n\r\n";
  out += body;
  return out;
}

}  // namespace podcd::http
