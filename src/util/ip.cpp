#include "util/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace podcd::ip {
namespace {

constexpr std::array<unsigned char, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<Network> ParsePlain(std::string_view text) {
  // inet_pton wants a terminated string and stops at the first NUL: text holding one would
  // be read as what comes before it.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
    return std::nullopt;
  std::string s(text);
  Network n;
  if (inet_pton(AF_INET, s.c_str(), n.bytes.data()) == 1) {
    n.prefix = 32;
    return n;
  }
  if (inet_pton(AF_INET6, s.c_str(), n.bytes.data()) != 1) return std::nullopt;
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), n.bytes.begin())) {
    std::memmove(n.bytes.data(), n.bytes.data() + 12, 4);
    std::fill(n.bytes.begin() + 4, n.bytes.end(), 0);
    n.prefix = 32;
    return n;
  }
  n.v6 = true;
  n.prefix = 128;
  return n;
}

}  // namespace

bool Network::Contains(const Network& address) const {
  if (v6 != address.v6) return false;
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xffU : (0xffU << (8 - bits)) & 0xffU;
    if ((bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<Network> ParseAddress(std::string_view text) { return ParsePlain(text); }

std::optional<Network> ParseForwardedAddress(std::string_view text) {
  auto port_ok = [](std::string_view port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return !port.empty() && port.size() <= 5 && ec == std::errc() && end == port.data() + port.size() &&
           value <= 65535;
  };
  if (text.starts_with('[')) {  // [v6] or [v6]:port; only IPv6 goes in brackets
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto rest = text.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && port_ok(rest.substr(1)))) return std::nullopt;
    auto inner = text.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;
    return ParsePlain(inner);
  }
  auto colon = text.find(':');
  // One colon is an IPv4 address with a port; more is IPv6, which has no port without brackets.
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    if (!port_ok(text.substr(colon + 1))) return std::nullopt;
    auto a = ParsePlain(text.substr(0, colon));
    if (!a || a->v6) return std::nullopt;
    return a;
  }
  return ParsePlain(text);
}

std::optional<Network> ParseNetwork(std::string_view text) {
  auto slash = text.find('/');
  auto n = ParsePlain(text.substr(0, slash));
  if (!n || slash == std::string_view::npos) return n;
  auto digits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  const bool mapped = !n->v6 && text.substr(0, slash).find(':') != std::string_view::npos;
  if (mapped) prefix -= 96;  // ::ffff:10.0.0.0/104 is 10.0.0.0/8
  if (prefix < 0 || prefix > (n->v6 ? 128 : 32)) return std::nullopt;
  n->prefix = prefix;
  return n;
}

namespace {
Network WithHostBits(const Network& n, bool ones) {
  Network out = n;
  const int width = n.v6 ? 128 : 32;
  for (int bit = n.prefix; bit < width; ++bit) {
    const auto mask = static_cast<unsigned char>(0x80U >> (bit % 8));
    auto& byte = out.bytes[static_cast<std::size_t>(bit / 8)];
    byte = static_cast<unsigned char>(ones ? (byte | mask) : (byte & ~mask));
  }
  out.prefix = width;
  return out;
}
}  // namespace

Network FirstAddress(const Network& network) { return WithHostBits(network, false); }
Network LastAddress(const Network& network) { return WithHostBits(network, true); }

Network Offset(const Network& address, int steps) {
  Network out = address;
  const std::size_t size = address.v6 ? 16 : 4;
  for (int k = 0; k < (steps < 0 ? -steps : steps); ++k) {
    for (std::size_t i = size; i-- > 0;) {
      if (steps > 0) {
        if (++out.bytes[i] != 0) break;
      } else if (out.bytes[i]-- != 0) {
        break;
      }
    }
  }
  return out;
}

std::string ToString(const Network& address) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buf, sizeof buf);
  return buf;
}

}  // namespace podcd::ip
