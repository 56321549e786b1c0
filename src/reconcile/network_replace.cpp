#include "reconcile/network_replace.hpp"

#include <algorithm>
#include <set>

#include "core/plan.hpp"

namespace podcd::reconcile {
namespace {

// The network as it was, to be created again from what Podman showed of it.
podman::NetworkCreate AsCreate(const podman::NetworkInfo& info) {
  podman::NetworkCreate c;
  c.name = info.name;
  c.driver = info.driver.empty() ? "bridge" : info.driver;
  c.labels = info.labels;
  c.options = info.options;
  c.subnets = info.subnets;
  c.ipv6_enabled = info.ipv6_enabled;
  c.ipam_options = info.ipam_options;
  // Podman fills in "host-local" itself; given back explicitly it is the same.
  if (auto it = c.ipam_options.find("driver"); it != c.ipam_options.end() && it->second == "host-local")
    c.ipam_options.erase(it);
  c.internal = info.internal;
  c.dns_enabled = info.dns_enabled;
  return c;
}

}  // namespace

bool NetworkChanged(const podman::NetworkCreate& want, const podman::NetworkInfo& have) {
  const std::string key(core::kLabelFingerprint);
  auto mine = want.labels.find(key);
  auto theirs = have.labels.find(key);
  if (theirs != have.labels.end()) return mine == want.labels.end() || mine->second != theirs->second;
  if (want.subnets.empty()) return false;
  std::set<std::string> a, b;
  for (const auto& s : want.subnets) a.insert(s.subnet);
  for (const auto& s : have.subnets) b.insert(s.subnet);
  return a != b;
}

Expected<NetworkSwap> ReplaceNetwork(Runtime& runtime, const podman::NetworkCreate& want,
                                     const podman::NetworkInfo& have,
                                     const std::vector<std::string>& containers) {
  NetworkSwap swap{have, {}};
  std::vector<std::string> failures;
  auto undo = [&](const Error& why) -> Expected<NetworkSwap> {
    RestoreNetwork(runtime, swap, [&](const std::string& line) { failures.push_back(line); });
    std::string text = "network " + want.name + " could not be made again: " + why.What();
    for (const auto& f : failures) text += "; " + f;
    return Fail(why.code, text);
  };
  for (const auto& id : containers) {
    auto nets = runtime.ContainerNetworks(id);
    if (!nets) return undo(nets.error());
    auto on = nets->find(want.name);
    if (on == nets->end()) continue;
    // Podman lists a container's own name and short id among its aliases: they come back anyway.
    swap.members.push_back({id, on->second.aliases, on->second.ip, on->second.mac});
    if (auto r = runtime.Disconnect(id, want.name); !r) return undo(r.error());
  }
  // Without force: a container of another stack (this network as its external one) stays on it,
  // and Podman's refusal names the network in use.
  if (auto r = runtime.RemoveNetwork(want.name); !r) return undo(r.error());
  podman::NetworkCreate fresh = want;
  if (auto r = runtime.EnsureNetwork(fresh); !r) return undo(r.error());
  return swap;
}

void RestoreNetwork(Runtime& runtime, const NetworkSwap& swap,
                    const std::function<void(const std::string&)>& log) {
  const std::string& name = swap.old.name;
  if (auto exists = runtime.NetworkExists(name); exists && *exists) {
    if (auto r = runtime.RemoveNetwork(name); !r)
      log("network " + name + ": remove of the new one: " + r.error().What());
  }
  if (auto r = runtime.EnsureNetwork(AsCreate(swap.old)); !r) {
    log("network " + name + ": could not create the old one again: " + r.error().What());
    return;
  }
  for (const auto& m : swap.members) {
    podman::NetworkConnect request = m;
    // Podman adds the container's short id to its aliases itself; it refuses nothing for it.
    if (auto r = runtime.Connect(name, request); !r)
      log("network " + name + ": container " + m.container.substr(0, 12) +
          " not back on it: " + r.error().What());
  }
}

}  // namespace podcd::reconcile
