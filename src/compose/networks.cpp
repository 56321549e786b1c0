#include <algorithm>
#include <cctype>

#include "compose/loader_internal.hpp"
#include "util/ip.hpp"

namespace podcd::compose {
namespace {

// "aa:bb:cc:dd:ee:ff" (or with dashes, as Docker also reads it), lower-cased; nullopt otherwise.
std::optional<std::string> ParseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-') return std::nullopt;
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string Family(const ip::Network& n) { return n.v6 ? "IPv6" : "IPv4"; }

}  // namespace

// A service's `networks`: a list of names or a mapping of per-network settings.
void Loader::ServiceNetworks(const Node& v, const std::string& p, core::Service& s) {
  if (v.IsSequence()) {
    for (auto& n : StrList(v, p, false)) s.networks[n] = {};
  } else if (v.IsMap()) {
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      core::ServiceNetwork sn;
      if (e.value->IsMap()) {
        for (const auto& f : e.value->entries) {
          std::string r = q + "." + f.key;
          if (IsExtension(f.key)) continue;
          if (f.key == "aliases") {
            sn.aliases = StrList(*f.value, r, false);
          } else if (f.key == "ipv4_address") {
            SetStr(*f.value, r, sn.ipv4_address);
            address_marks_[r] = f.value->mark;
          } else if (f.key == "ipv6_address") {
            SetStr(*f.value, r, sn.ipv6_address);
            address_marks_[r] = f.value->mark;
          } else if (f.key == "priority") {
            sn.priority = Int(*f.value, r);
          } else if (f.key == "mac_address") {
            std::string mac;
            SetStr(*f.value, r, mac);
            if (auto m = ParseMac(mac))
              sn.mac_address = *m;
            else if (!mac.empty())
              Err(*f.value, r, "must be a MAC address such as 02:42:ac:11:00:02, got " + Quoted(mac));
          } else if (f.key == "link_local_ips") {
            sn.link_local_ips = StrList(*f.value, r, false);
            for (const auto& a : sn.link_local_ips) {
              if (!ip::ParseAddress(a)) Err(*f.value, r, "must list IP addresses, got " + Quoted(a));
            }
            if (!sn.link_local_ips.empty())
              out_.notes.push_back(r + ": ignored (Podman has no link-local addresses for a container)");
          } else {
            Unsupported(f, q);
          }
        }
      } else if (!e.value->IsNull()) {
        TypeErr(*e.value, q, "a mapping or null");
      }
      s.networks[e.key] = sn;
    }
  } else {
    return TypeErr(v, p, "a list or a mapping");
  }
  for (const auto& [n, _] : s.networks) network_refs_.push_back({s.name, n, v.mark, p});
}

// A network's `ipam`: the subnets Podman creates it with. Each address is checked here, where
// its line is known; Podman would refuse a bad one only at deploy time, after the pull.
void Loader::IpamDef(const Node& v, const std::string& p, core::Ipam& ipam) {
  if (v.IsNull()) return;
  if (!v.IsMap()) return TypeErr(v, p, "a mapping");
  for (const auto& e : v.entries) {
    if (IsExtension(e.key)) continue;
    const std::string q = p + "." + e.key;
    if (e.key == "driver") {
      SetStr(*e.value, q, ipam.driver);
      static constexpr std::string_view kDrivers[] = {"", "default", "host-local", "dhcp", "none"};
      if (std::find(std::begin(kDrivers), std::end(kDrivers), ipam.driver) == std::end(kDrivers))
        Err(*e.value, q,
            "unsupported ipam driver " + Quoted(ipam.driver) +
                " (Podman's are default, host-local, dhcp, none)");
    } else if (e.key == "config") {
      if (!e.value->IsSequence()) {
        TypeErr(*e.value, q, "a list");
        continue;
      }
      for (std::size_t i = 0; i < e.value->items.size(); ++i) {
        const Node& item = *e.value->items[i];
        const std::string r = q + "[" + std::to_string(i) + "]";
        if (!item.IsMap()) {
          TypeErr(item, r, "a mapping");
          continue;
        }
        ipam.config.push_back(IpamPool(item, r));
      }
    } else {
      Unsupported(e, p);
    }
  }
}

// One `ipam.config` entry: its subnet, and what must lie inside it.
core::IpamPool Loader::IpamPool(const Node& item, const std::string& r) {
  core::IpamPool pool;
  std::optional<ip::Network> subnet;
  const Node* subnet_node = &item;
  for (const auto& f : item.entries) {
    if (IsExtension(f.key)) continue;
    const std::string k = r + "." + f.key;
    if (f.key == "subnet") {
      SetStr(*f.value, k, pool.subnet);
      subnet_node = f.value.get();
      subnet = ip::ParseNetwork(pool.subnet);
      if (!subnet || pool.subnet.find('/') == std::string::npos) {
        Err(*f.value, k,
            "must be a subnet in CIDR notation such as 172.28.0.0/16, got " + Quoted(pool.subnet));
        subnet.reset();
      } else if (ip::FirstAddress(*subnet).bytes != subnet->bytes) {
        Err(*f.value, k,
            Quoted(pool.subnet) + " has host bits set: did you mean " +
                ip::ToString(ip::FirstAddress(*subnet)) + "/" + std::to_string(subnet->prefix) + "?");
        subnet.reset();
      }
    } else if (f.key == "ip_range") {
      SetStr(*f.value, k, pool.ip_range);
    } else if (f.key == "gateway") {
      SetStr(*f.value, k, pool.gateway);
    } else if (f.key == "aux_addresses") {
      pool.aux_addresses = StrMap(*f.value, k);
    } else {
      Unsupported(f, r);
    }
  }
  if (pool.subnet.empty()) {
    Err(*subnet_node, r + ".subnet", "is required (ip_range, gateway and addresses lie inside it)");
  } else if (subnet) {
    IpamInside(item, r, pool, *subnet);
  }
  return pool;
}

// What lies inside a pool's subnet (ip_range, gateway, aux_addresses), each checked against it.
void Loader::IpamInside(const Node& item, const std::string& r, const core::IpamPool& pool,
                        const ip::Network& subnet) {
  auto inside = [&](const std::string& text, const std::string& key, bool range) {
    if (text.empty()) return;
    const Node& at = *item.entries[0].value;
    const tree::Mark* mark = &at.mark;
    for (const auto& f : item.entries) {
      if (r + "." + f.key == key) mark = &f.value->mark;
    }
    auto n = range ? ip::ParseNetwork(text) : ip::ParseAddress(text);
    if (!n || (range && text.find('/') == std::string::npos)) {
      ErrAt(*mark, key,
            range ? "must be a range in CIDR notation inside the subnet, got " + Quoted(text)
                  : "must be an IP address, got " + Quoted(text));
    } else if (!subnet.Contains(*n) || n->prefix < subnet.prefix || n->v6 != subnet.v6) {
      ErrAt(*mark, key, Quoted(text) + " is not inside the subnet " + pool.subnet);
    }
  };
  inside(pool.ip_range, r + ".ip_range", true);
  inside(pool.gateway, r + ".gateway", false);
  for (const auto& [name, address] : pool.aux_addresses) {
    const std::string key = r + ".aux_addresses." + name;
    auto n = ip::ParseAddress(address);
    if (!n || !subnet.Contains(*n) || n->v6 != subnet.v6)
      ErrAt(item.mark, key, Quoted(address) + " is not an address inside the subnet " + pool.subnet);
  }
  if (!pool.aux_addresses.empty())
    out_.notes.push_back(r +
                         ".aux_addresses: ignored (Podman reserves no addresses: keep them out of "
                         "ip_range so that no container is given one)");
}

// A fixed address is given by Podman's IPAM only inside a subnet the network was created with;
// two services asking for one address would fail the second's create, after the first ran.
void Loader::CheckAddresses() {
  std::map<std::string, std::string> taken;  // "<network> <address>" -> service
  for (const auto& s : out_.services) {
    for (const auto& [key, sn] : s.networks) {
      auto def = out_.networks.find(key);
      if (def != out_.networks.end() && def->second.external) continue;  // its subnets are not ours to see
      for (const auto& [text, v6] : {std::pair<const std::string&, bool>{sn.ipv4_address, false},
                                     std::pair<const std::string&, bool>{sn.ipv6_address, true}}) {
        if (text.empty()) continue;
        const std::string path =
            "services." + s.name + ".networks." + key + (v6 ? ".ipv6_address" : ".ipv4_address");
        auto mark_it = address_marks_.find(path);
        const tree::Mark mark = mark_it == address_marks_.end() ? tree::Mark{} : mark_it->second;
        auto address = ip::ParseAddress(text);
        if (!address || address->v6 != v6) {
          ErrAt(mark, path,
                "must be an " + std::string(v6 ? "IPv6" : "IPv4") + " address, got " + Quoted(text));
          continue;
        }
        std::vector<const core::IpamPool*> pools;
        std::string subnets;
        if (def != out_.networks.end()) {
          for (const auto& pool : def->second.ipam.config) {
            auto n = ip::ParseNetwork(pool.subnet);
            if (!n || n->v6 != v6) continue;
            subnets += (subnets.empty() ? "" : ", ") + pool.subnet;
            if (n->Contains(*address)) pools.push_back(&pool);
          }
        }
        if (subnets.empty()) {
          ErrAt(mark, path,
                "a fixed address needs an " + Family(*address) + " subnet of network " + Quoted(key) +
                    ": give one in networks." + key +
                    ".ipam.config (e.g. - subnet: " + (v6 ? "fd00:0:0:1::/64" : "172.28.0.0/16") + ")");
          continue;
        }
        if (pools.empty()) {
          ErrAt(mark, path,
                Quoted(text) + " is not inside a subnet of network " + Quoted(key) + " (" + subnets + ")");
          continue;
        }
        for (const auto* pool : pools) {
          if (!pool->gateway.empty() && ip::ParseAddress(pool->gateway) &&
              ip::ToString(*ip::ParseAddress(pool->gateway)) == ip::ToString(*address))
            ErrAt(mark, path, Quoted(text) + " is the gateway of network " + Quoted(key));
        }
        if (disabled_.contains(s.name)) continue;  // alternatives in two profiles may share one
        auto [it, fresh] = taken.emplace(key + " " + ip::ToString(*address), s.name);
        if (!fresh && it->second != s.name)
          ErrAt(
              mark, path,
              Quoted(text) + " is also the address of service " + it->second + " on network " + Quoted(key));
      }
    }
  }
}

}  // namespace podcd::compose
