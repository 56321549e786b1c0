// libFuzzer target over who a request comes from: address parsing (ip::ParseAddress,
// ParseNetwork, ParseForwardedAddress), X-Forwarded-For resolution behind trusted proxies, the
// scanner that reads every X-Forwarded-For line of a header block, and the connection caps.
// Properties: a parsed address prints and parses back to itself; the client is the peer or an
// entry of the header, and never a trusted proxy while an untrusted entry lies right of it; the
// scanner reads the same lines whatever pieces the bytes arrive in; the caps always hold.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/webhook.hpp"
#include "util/ip.hpp"

using namespace podcd;
using namespace podcd::http;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property broken: %s\n", what);
    std::abort();
  }
}

bool Same(const ip::Network& a, const ip::Network& b) {
  return a.v6 == b.v6 && a.prefix == b.prefix && a.bytes == b.bytes;
}

void Addresses(std::string_view in) {
  if (auto a = ip::ParseAddress(in)) {
    auto back = ip::ParseAddress(ip::ToString(*a));
    Check(back && Same(*a, *back), "an address prints and parses back");
    auto f = ip::ParseForwardedAddress(in);
    Check(f && Same(*a, *f), "every plain address is a forwarded address");
  }
  if (auto f = ip::ParseForwardedAddress(in)) {
    Check(f->prefix == (f->v6 ? 128 : 32), "a forwarded address has no prefix");
    auto back = ip::ParseAddress(ip::ToString(*f));
    Check(back && Same(*f, *back), "a forwarded address prints as a plain one");
  }
  if (auto n = ip::ParseNetwork(in)) {
    Check(n->prefix >= 0 && n->prefix <= (n->v6 ? 128 : 32), "a prefix fits its family");
    ip::Network self = *n;
    self.prefix = self.v6 ? 128 : 32;
    Check(n->Contains(self), "a network contains its own address");
  }
}

std::vector<std::string> SplitLines(std::string_view in) {
  std::vector<std::string> lines;
  while (!in.empty() && lines.size() < 16) {
    auto nl = in.find('\n');
    lines.emplace_back(in.substr(0, nl));
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  }
  return lines;
}

void Resolve(std::string_view in) {
  static const ClientResolver resolver({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  const auto nl = in.find('\n');
  const std::string_view peer = in.substr(0, nl);
  const auto lines = SplitLines(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  const std::string client = resolver.ClientOf(peer, lines);
  auto peer_address = ip::ParseAddress(peer);
  const std::string from_peer = peer_address ? ip::ToString(*peer_address) : std::string(peer.substr(0, 64));
  if (!peer_address || !resolver.Trusted(peer)) {
    Check(client == from_peer, "a client that is no trusted proxy is its own peer");
    return;
  }
  if (client == from_peer) return;
  // Otherwise an entry of the header, walked from the right: every entry right of it is a
  // trusted address, and it is untrusted unless every entry is trusted.
  std::vector<std::string> entries;
  for (const auto& line : lines) {
    std::string_view rest = line;
    while (true) {
      auto comma = rest.find(',');
      std::string_view e = rest.substr(0, comma);
      while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) e.remove_prefix(1);
      while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) e.remove_suffix(1);
      if (!e.empty()) entries.emplace_back(e);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  bool found = false;
  for (auto it = entries.rbegin(); it != entries.rend() && !found; ++it) {
    auto a = ip::ParseForwardedAddress(*it);
    Check(a.has_value(), "no garbage right of the client");
    found = ip::ToString(*a) == client;
    if (!found) Check(resolver.Trusted(ip::ToString(*a)), "only trusted proxies right of the client");
  }
  Check(found, "the client is an entry of the header");
  Check(ip::ParseAddress(client).has_value(), "the client is an address");
}

void Scan(std::string_view in, std::uint8_t seed) {
  ForwardedForScanner whole(512);
  whole.Feed(in);
  ForwardedForScanner pieces(512);
  std::size_t step = 1 + seed % 7;
  for (std::size_t at = 0; at < in.size(); at += step, step = 1 + (step * 5 + seed) % 11)
    pieces.Feed(in.substr(at, step));
  Check(whole.Complete() == pieces.Complete(), "complete whatever the pieces");
  Check(whole.Lines() == pieces.Lines(), "the same lines whatever the pieces");
  if (auto lines = whole.Lines()) {
    for (const auto& l : *lines) {
      Check(l.find_first_of("\r\n") == std::string::npos, "a line holds no line break");
      Check(l.empty() || (l.front() != ' ' && l.back() != ' '), "a line is trimmed");
    }
  }
  whole.Reset();
  Check(!whole.Started() && !whole.Lines(), "a reset scanner starts over");
}

void Connections(std::string_view in) {
  ConnectionTable t(8, 3);
  std::vector<std::string> open;
  for (unsigned char c : in.substr(0, 4096)) {
    const std::string who(1, static_cast<char>('a' + (c & 0x07)));
    if (c & 0x80) {
      if (!open.empty()) {
        t.Close(open[c % open.size()]);
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(c % open.size()));
      }
    } else if (t.Open(who, (c & 0x40) != 0)) {
      open.push_back(who);
    }
    Check(t.Total() == open.size() && t.Total() <= 8, "the total cap holds and counts right");
    Check(t.Addresses() <= t.Total(), "no empty entries");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: Addresses(in); break;
    case 1: Resolve(in); break;
    case 2: Scan(in, data[0]); break;
    case 3: Connections(in); break;
  }
  return 0;
}
