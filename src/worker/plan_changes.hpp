// What the dashboard shows of a stack's plan (worker/protocol.hpp's PlanChange and
// ServiceObservation), taken apart from the plan, the desired services' canonical fields and
// the listed containers. Pure: the `__stacks` worker calls it, tests call it with values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/fingerprint.hpp"
#include "core/plan.hpp"
#include "reconcile/deployed_fields.hpp"
#include "worker/protocol.hpp"

namespace podcd::worker {

// Each reason of `plan` once: a service's "FIELD changed|added|removed" becomes a row with
// that field, its new value from `desired` (service -> core::Canonicalize of the loaded stack;
// empty when the stack did not load) and its old value where a container tells it (the
// image) or else in `deployed` (what the stack's last deployment recorded,
// reconcile/deployed_fields.hpp); values podcd cannot know stay nullopt; a map field's own entry
// ("environment", whose keys are fields of their own) shows its count ("3 entries"). Every other reason is a
// row without a field. Values are masked: log::MaskSecrets, and "***" for an environment variable whose name
// suggests a secret (PASSWORD, SECRET, TOKEN, KEY, ...); long values are cut at 300 bytes.
std::vector<PlanChange> PlanChanges(const core::StackPlan& plan,
                                    const std::map<std::string, core::CanonicalFields>& desired,
                                    const std::vector<core::ActualContainer>& actual,
                                    const reconcile::DeployedFields& deployed = {});

// One row per service of `plan` with its container (the running one first), status, health
// and image; a service without a container has an empty one.
std::vector<ServiceObservation> ServicesOf(const core::StackPlan& plan,
                                           const std::vector<core::ActualContainer>& actual);

}  // namespace podcd::worker
