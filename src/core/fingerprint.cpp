#include "core/fingerprint.hpp"

#include <set>

#include "util/sha256.hpp"

namespace podcd::core {
// Canonicalize, the visitor over the table of compose keys, is in compose_keys.cpp.

std::string Fingerprint(const CanonicalFields& fields) {
  Sha256 h;
  h.Update(kCanonicalVersion);
  h.Update("\n");
  for (const auto& [k, v] : fields) {
    h.Update(std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":");
    h.Update(v);
    h.Update("\n");
  }
  return h.HexDigest();
}

std::string Fingerprint(const Stack& stack, const Service& service) {
  return Fingerprint(Canonicalize(stack, service));
}

CanonicalFields Digests(const CanonicalFields& fields) {
  CanonicalFields out;
  for (const auto& [k, v] : fields) out.emplace(k, Sha256Hex(v));
  return out;
}

std::vector<std::string> ChangedFields(const CanonicalFields& before, const CanonicalFields& after) {
  std::set<std::string> out;
  for (const auto& [k, v] : before) {
    auto it = after.find(k);
    if (it == after.end() || it->second != v) out.insert(k);
  }
  for (const auto& [k, _] : after) {
    if (!before.contains(k)) out.insert(k);
  }
  // The count entries only matter when nothing more specific changed.
  for (const char* agg : {"environment", "labels"}) {
    if (!out.contains(agg)) continue;
    for (const auto& k : out) {
      if (k.starts_with(std::string(agg) + ".")) {
        out.erase(agg);
        break;
      }
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace podcd::core
