// IP addresses and networks (IPv4 and IPv6), for matching a peer against a list such as
// `trusted_proxies`.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace podcd::ip {

// An address or a network: "192.0.2.7", "10.0.0.0/8", "::1", "fd00::/8". An IPv4-mapped IPv6
// address (::ffff:192.0.2.7) is the IPv4 address it maps, so both spellings match the same.
struct Network {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};  // IPv4 uses the first 4
  int prefix = 0;                         // significant leading bits

  [[nodiscard]] bool Contains(const Network& address) const;
};

// nullopt when `text` is not an address with an optional /prefix that fits its family.
std::optional<Network> ParseNetwork(std::string_view text);
// Only addresses (no prefix): what a peer must be.
std::optional<Network> ParseAddress(std::string_view text);
// An address as proxies write it in X-Forwarded-For: "192.0.2.7", "192.0.2.7:4711", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:4711" (a port is read and dropped). Surrounding spaces and
// tabs are not part of it; anything else (a name, "unknown", a zone index, a bad port) is nullopt.
std::optional<Network> ParseForwardedAddress(std::string_view text);

// The first and the last address of a network (its host bits all 0, all 1), as addresses.
Network FirstAddress(const Network& network);
Network LastAddress(const Network& network);
// An address `steps` after (negative: before) `address`, within its family's space.
Network Offset(const Network& address, int steps);

// The canonical text of an address ("::ffff:192.0.2.7" -> "192.0.2.7").
std::string ToString(const Network& address);

}  // namespace podcd::ip
