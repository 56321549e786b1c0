// What a run claims, held against what the host shows after it, apart from how the host is
// observed: a stack the run applied or found unchanged must now need nothing (each service's
// container runs under its own name, a one-shot service exited 0, no container is left by an
// interrupted run, none is unhealthy); a stack it removed must be gone. A container that a
// killed run left created, or one that stopped meanwhile, is never taken for done.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/plan.hpp"

namespace podcd::reconcile {

struct Claims {
  std::set<std::string> current;  // applied, or found unchanged
  std::set<std::string> removed;  // pruned
};

// Pure. `plan`: core::Plan of the desired state against `actual`, the containers as listed
// after the run. Returns, per stack that falls short of its claim, why (naming its services).
std::map<std::string, std::string> UnmetClaims(const core::PlanResult& plan,
                                               const std::vector<core::ActualContainer>& actual,
                                               const Claims& claims);

}  // namespace podcd::reconcile
