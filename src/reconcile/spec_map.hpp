// Compose model -> Podman: one core::Service becomes a podman::ContainerSpec plus what the
// applier needs to know about it (ports held, namespaces shared, pull policy, gate).
#pragma once

#include <map>
#include <string>

#include "core/model.hpp"
#include "reconcile/apply.hpp"
#include "util/error.hpp"

namespace podcd::reconcile {

// Compose's container name: container_name, else <project>_<service>_1.
std::string ContainerName(const core::Stack& stack, const core::Service& service);

// Labels podcd adds to every container it creates (besides the user's labels).
struct DeployLabels {
  std::string fingerprint;
  std::string fields;  // core::EncodeFieldHashes of the service's field hashes
  std::string commit;
  std::string deployment;
};

// Maps every field the model carries. A field Podman cannot be given yet is an error naming
// it, never silently dropped.
Expected<ServiceJob> MapService(const core::Stack& stack, const core::Service& service,
                                const DeployLabels& labels);

// The networks and volumes the stack's services use (external ones listed apart).
void MapStackResources(const core::Stack& stack, StackJob& job);

// A digest of everything a network is created with (its label io.podcd.fingerprint aside).
std::string NetworkFingerprint(const podman::NetworkCreate& network);

}  // namespace podcd::reconcile
