#include "reconcile/image_cleanup.hpp"

#include "reconcile/image_removal.hpp"
#include "state/deployment.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

std::string Short(const std::string& id) { return id.substr(0, 12); }

}  // namespace

void RecordBroughtImages(state::ImageLedgerFile& ledger, const std::string& stack,
                         const std::vector<ImageBrought>& brought, const LogFn& log) {
  if (brought.empty()) return;
  const std::int64_t now = state::NowMs();
  auto r = ledger.Update([&](state::ImageLedger& l) {
    for (const auto& b : brought) state::AddBrought(l, stack, b.service, {b.id, b.how, b.tags, now, 0});
  });
  if (!r)
    log("warning: the images brought are not recorded (they will not be removed later): " + r.error().What());
}

ImageCleanup CleanStackImages(Runtime& runtime, state::ImageLedgerFile& ledger, const StackJob& job,
                              std::int64_t keep_previous, const std::set<std::string>& named,
                              const LogFn& log) {
  ImageCleanup out;
  ImageRemovalInput in{job.name, {}, keep_previous, {}};
  for (const auto& s : job.services) {
    if (s.action == core::Action::kRemove || s.spec.image.empty()) continue;
    if (auto info = runtime.InspectImage(s.spec.image)) in.current[s.name] = info->id;
  }
  const std::int64_t now = state::NowMs();
  auto marked = ledger.Update([&](state::ImageLedger& l) {
    for (const auto& [service, id] : in.current) state::MarkUsed(l, job.name, service, id, now);
  });
  if (!marked) {
    log("warning: images not cleaned up: " + marked.error().What());
    return out;
  }
  // Most deployments have nothing to remove: the store is listed only when the ledger has some.
  if (RemovalCandidates(*marked, in).empty()) return out;
  for (const auto& ref : named) {
    if (auto info = runtime.InspectImage(ref)) in.named.insert(info->id);
  }
  auto store = runtime.ListImages();
  if (!store) {
    log("warning: images not cleaned up: " + store.error().What());
    return out;
  }
  const ImageRemovalPlan plan = PlanImageRemoval(*marked, *store, in);
  std::vector<std::string> forget = plan.gone;
  for (const auto& [id, why] : plan.kept) log("image " + Short(id) + " kept: " + why);
  for (const auto& image : plan.remove) {
    auto deleted = runtime.RemoveImage(image.id);
    if (!deleted) {
      log("warning: image " + Short(image.id) + " not removed: " + deleted.error().What());
      continue;
    }
    const std::int64_t bytes = FreedBytes(*store, *deleted);
    ++out.removed;
    out.bytes_freed += bytes;
    forget.push_back(image.id);
    log("removed image " + Short(image.id) +
        (image.repo_tags.empty() ? std::string() : " (" + Join(image.repo_tags, ", ") + ")") + ": " +
        std::to_string(bytes) + " bytes freed");
  }
  if (!forget.empty()) {
    auto r = ledger.Update([&](state::ImageLedger& l) {
      for (const auto& id : forget) state::Forget(l, id);
    });
    if (!r) log("warning: " + r.error().What());
  }
  if (out.removed > 0) metrics::Add("podcd_images_removed_total", {{"stack", job.name}}, out.removed);
  return out;
}

std::set<std::string> NamedImages(const DesiredState& desired, const std::vector<const StackJob*>& jobs) {
  std::set<std::string> out;
  for (const auto& [name, stack] : desired.models) {
    for (const auto& s : stack.services) {
      if (!s.image.empty()) out.insert(s.image);
    }
  }
  for (const auto* job : jobs) {
    for (const auto& s : job->services) {
      if (!s.spec.image.empty()) out.insert(s.spec.image);
    }
  }
  return out;
}

}  // namespace podcd::reconcile
