// Which images go after a successful deployment of a stack: a pure decision over the ledger of
// images podcd brought (state/image_ledger.hpp) and the store as Podman lists it. The effects
// (listing, removing, recording) are image_cleanup.hpp's.
//
// An image is removed only when all of these hold:
// - podcd brought it for this stack (it is in the stack's ledger);
// - it is none of the images kept for a rollback: per service of any stack, the current one and
//   the `keep_previous` used before it (for another stack, whose current image is not known
//   here, its last 1 + keep_previous);
// - no container uses it, of any stack or none, running or not;
// - no compose file names it now (a stack deploying at the same time may not have created the
//   container that will use it yet);
// - every name it has is one podcd gave it or found on it when it brought it (a tag a person
//   added since keeps it).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "podman/client.hpp"
#include "state/image_ledger.hpp"

namespace podcd::reconcile {

struct ImageRemovalInput {
  std::string stack;
  // Service -> the id of the image it runs now, after the deployment.
  std::map<std::string, std::string> current;
  std::int64_t keep_previous = 1;
  std::set<std::string> named;  // ids of the images the compose files name now
};

struct ImageRemovalPlan {
  std::vector<podman::ImageSummary> remove;               // as listed (sizes included)
  std::vector<std::pair<std::string, std::string>> kept;  // (id, why) of the stack's old images kept
  std::vector<std::string> gone;  // the stack's ledger ids no longer in the store (to forget)
};

// The ids of the stack's ledger outside every kept set: what is worth listing the store for.
std::set<std::string> RemovalCandidates(const state::ImageLedger& ledger, const ImageRemovalInput& in);

ImageRemovalPlan PlanImageRemoval(const state::ImageLedger& ledger,
                                  const std::vector<podman::ImageSummary>& store,
                                  const ImageRemovalInput& in);

// The bytes a removal freed: for each id Podman deleted (the image and the parents of a
// layered build that went with it), what it held alone, or its own layers over its parent's.
std::int64_t FreedBytes(const std::vector<podman::ImageSummary>& store,
                        const std::vector<std::string>& deleted);

}  // namespace podcd::reconcile
