#include "compose/loader_internal.hpp"

namespace podcd::compose {

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
          if (f.key == "aliases")
            sn.aliases = StrList(*f.value, r, false);
          else if (f.key == "ipv4_address")
            SetStr(*f.value, r, sn.ipv4_address);
          else if (f.key == "ipv6_address")
            SetStr(*f.value, r, sn.ipv6_address);
          else if (f.key == "priority")
            sn.priority = Int(*f.value, r);
          else
            Unsupported(f, q);
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

}  // namespace podcd::compose
