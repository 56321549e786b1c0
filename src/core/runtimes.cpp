#include "core/runtimes.hpp"

#include <algorithm>

namespace podcd::core {
namespace {

void AddOnce(std::vector<std::string>& names, std::string_view name) {
  if (name.empty() || std::find(names.begin(), names.end(), name) != names.end()) return;
  names.emplace_back(name);
}

std::vector<std::string> Builtin() {
  std::vector<std::string> names;
  for (auto name : kBuiltinRuntimes) AddOnce(names, name);
  return names;
}

}  // namespace

AllowedRuntimes DecideAllowedRuntimes(const std::vector<std::string>& configured,
                                      const std::optional<HostRuntimes>& host, std::string_view unasked) {
  if (!configured.empty()) return {configured, "policy.allowed_runtimes"};
  if (!host) return {Builtin(), "podcd's built-in list, " + std::string(unasked)};
  AllowedRuntimes out;
  if (host->listed) {
    // The default first: it is the one the host runs without `runtime`.
    AddOnce(out.names, host->default_runtime);
    for (const auto& name : host->known) AddOnce(out.names, name);
    out.source = "the runtimes the host's Podman knows (its containers.conf)";
    return out;
  }
  AddOnce(out.names, host->default_runtime);
  for (auto name : kBuiltinRuntimes) AddOnce(out.names, name);
  out.source =
      "the host's Podman's default runtime and podcd's built-in list (this Podman does not list "
      "the others it knows)";
  return out;
}

}  // namespace podcd::core
