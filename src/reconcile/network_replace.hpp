// A stack network whose definition changed (a new subnet, say): Podman cannot change a network
// in place, so the applier takes the old containers off it, removes it and creates it anew;
// a stack that rolls back gets the old network back, its containers on it as they were.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "podman/client.hpp"
#include "reconcile/runtime.hpp"

namespace podcd::reconcile {

// Pure: whether the network on the host is not the one `want` describes. By the digest podcd
// labels it with; a network an older podcd made has none, and then only a different set of
// subnets counts (what the compose file fixes and containers' addresses depend on).
bool NetworkChanged(const podman::NetworkCreate& want, const podman::NetworkInfo& have);

// What a replaced network was, to make it again.
struct NetworkSwap {
  podman::NetworkInfo old;
  std::vector<podman::NetworkConnect> members;  // the containers that were on it, as they were
};

// Takes `containers` (those of the stack that are on it) off the old network, removes it and
// creates `want`. On failure the old network is back (RestoreNetwork) and the error says why.
Expected<NetworkSwap> ReplaceNetwork(Runtime& runtime, const podman::NetworkCreate& want,
                                     const podman::NetworkInfo& have,
                                     const std::vector<std::string>& containers);

// Removes the new network (its containers gone with the stack's rollback), creates the old one
// again and puts its containers back with their addresses. Failures are logged, not returned:
// a rollback goes on as far as it can.
void RestoreNetwork(Runtime& runtime, const NetworkSwap& swap,
                    const std::function<void(const std::string&)>& log);

}  // namespace podcd::reconcile
