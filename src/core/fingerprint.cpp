#include "core/fingerprint.hpp"

#include <set>

#include "util/sha256.hpp"

namespace podcd::core {
// Canonicalize, the visitor over the table of compose keys, is in compose_keys.cpp.

std::string Fingerprint(const CanonicalFields& fields) {
  // One buffer and one hash call: three digest updates per field were a tenth of a plan.
  std::size_t size = kCanonicalVersion.size() + 1;
  for (const auto& [k, v] : fields) size += k.size() + v.size() + 24;
  std::string text;
  text.reserve(size);
  text += kCanonicalVersion;
  text += '\n';
  for (const auto& [k, v] : fields) {
    text += std::to_string(k.size());
    text += ':';
    text += k;
    text += '=';
    text += std::to_string(v.size());
    text += ':';
    text += v;
    text += '\n';
  }
  return Sha256Hex(text);
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
