// Images that do not pile up: after a stack's deployment, the images it brought go into the
// ledger (state/image_ledger.hpp); after a successful one, the stack's old images that nothing
// needs are removed (the decision: image_removal.hpp). A removal that fails is logged and
// never fails the deployment. Called by the engine for each applied stack.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "reconcile/apply.hpp"
#include "reconcile/desired.hpp"
#include "reconcile/runtime.hpp"
#include "state/image_ledger.hpp"

namespace podcd::reconcile {

struct ImageCleanup {
  int removed = 0;
  std::int64_t bytes_freed = 0;
};

// Records what a deployment of `stack` brought (whatever its outcome: an image pulled for a
// failed deployment is still podcd's).
void RecordBroughtImages(state::ImageLedgerFile& ledger, const std::string& stack,
                         const std::vector<ImageBrought>& brought, const LogFn& log);

// After a successful deployment of `job`: marks the image each service runs now as used, then
// removes the stack's images outside what is kept. `named` are the image references the
// compose files name now (NamedImages()). Counts podcd_images_removed_total.
ImageCleanup CleanStackImages(Runtime& runtime, state::ImageLedgerFile& ledger, const StackJob& job,
                              std::int64_t keep_previous, const std::set<std::string>& named,
                              const LogFn& log);

// Every image reference the loaded compose files name, and the images of `jobs` (built ones
// are named after their content).
std::set<std::string> NamedImages(const DesiredState& desired, const std::vector<const StackJob*>& jobs);

}  // namespace podcd::reconcile
