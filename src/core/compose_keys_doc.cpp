// docs/repository.md's table of compose keys, made from the key tables so that the page cannot
// drift from what the loader accepts (tests/unit/compose/compose_keys_doc_test.cpp).
#include <algorithm>
#include <sstream>
#include <vector>

#include "core/compose_keys.hpp"

namespace podcd::core {
namespace {

std::string Code(std::string_view words, std::string_view prefix_to_drop = {}) {
  std::string out;
  std::istringstream in{std::string(words)};
  for (std::string w; in >> w;) {
    if (!prefix_to_drop.empty() && w.starts_with(prefix_to_drop)) w = w.substr(prefix_to_drop.size());
    out += (out.empty() ? "`" : ", `") + w + "`";
  }
  return out;
}

std::string Policy(const KeyPolicy& p) {
  std::string out(ToString(p.cls));
  if (!p.rules.empty()) out += " (" + Code(p.rules) + ")";
  return out;
}

std::string What(const ServiceKey& k) {
  if (k.parse == ParseAs::kIgnored) return "accepted, ignored and named in the plan: " + std::string(k.note);
  std::string podman, job;
  std::istringstream in{std::string(k.spec)};
  for (std::string w; in >> w;) {
    std::string& to = w.starts_with("job.") ? job : podman;
    to += std::string(to.empty() ? "" : " ") + (w.starts_with("job.") ? w.substr(4) : w);
  }
  std::string out;
  if (!podman.empty()) out = "container: " + Code(podman);
  if (!job.empty()) out += std::string(out.empty() ? "" : "; ") + "deployment: " + Code(job);
  if (!k.note.empty()) out += std::string(out.empty() ? "" : "; ") + std::string(k.note);
  return out.empty() ? "fingerprinted only" : out;
}

template <class Def>
void Section(std::string& out, std::string_view section, std::span<const DefKey<Def>> keys,
             std::string_view what) {
  for (const auto& k : keys) {
    out += "| `" + std::string(section) + "." + std::string(k.key) + "` | " +
           (k.note.empty() ? std::string(what) : std::string(what) + "; " + std::string(k.note)) + " | " +
           Policy(k.policy) + " |\n";
  }
}

}  // namespace

std::string ComposeKeysMarkdown() {
  std::string out = "| key | what podcd does with it | policy |\n| --- | --- | --- |\n";
  std::vector<const ServiceKey*> rows;
  for (const auto& r : ServiceKeys()) rows.push_back(&r);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->key < b->key; });
  for (const auto* r : rows)
    out += "| `services." + std::string(r->key) + "` | " + What(*r) + " | " + Policy(r->policy) + " |\n";
  Section(out, "networks", NetworkKeys(), "network create (libpod), fingerprint of the services on it");
  Section(out, "volumes", VolumeKeys(), "volume create (libpod), fingerprint of the services mounting it");
  Section(out, "configs/secrets", FileObjectKeys(),
          "a read-only bind of the file, fingerprint of its services");
  for (const auto& k : HookKeys()) {
    std::string what = "a lifecycle hook (docs/hooks.md), fingerprint of the service it names";
    if (!k.note.empty()) what += "; " + std::string(k.note);
    out +=
        "| `x-podcd.hooks.<hook>." + std::string(k.key) + "` | " + what + " | " + Policy(k.policy) + " |\n";
  }
  return out;
}

}  // namespace podcd::core
