// Force recreate (`podcd deploy --force-recreate`, POST /actions/recreate/<stack>): a stack's
// plan with every service that runs recreated, although nothing changed. The applier then
// replaces them as it replaces any changed service: images prepared first, a new container
// under a temporary name, the health gate, the rollback to the old container on failure.
#pragma once

#include <string_view>

#include "core/plan.hpp"

namespace podcd::reconcile {

inline constexpr std::string_view kForcedReason = "force recreate requested";

// Pure. Each unchanged service with containers becomes a recreate (reason kForcedReason), and
// an unchanged stack with such a service a recreate. Services to create or remove, and
// invalid, refused or removed stacks, stay as they are.
core::StackPlan ForceRecreate(const core::StackPlan& plan);

}  // namespace podcd::reconcile
