#include "reconcile/image_removal.hpp"

#include <algorithm>

namespace podcd::reconcile {
namespace {

// The ids kept for a rollback, over every stack of the ledger.
std::set<std::string> Kept(const state::ImageLedger& ledger, const ImageRemovalInput& in) {
  const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(0, in.keep_previous));
  std::set<std::string> out;
  for (const auto& [stack, services] : ledger) {
    for (const auto& [service, images] : services) {
      std::string current;
      if (stack == in.stack) {
        if (auto c = in.current.find(service); c != in.current.end()) current = c->second;
      }
      if (current.empty() && !images.empty()) current = images.back().id;  // not known: the newest
      out.insert(current);
      std::size_t previous = 0;
      for (auto it = images.rbegin(); it != images.rend() && previous < keep; ++it) {
        if (it->id == current) continue;
        out.insert(it->id);
        ++previous;
      }
    }
  }
  return out;
}

// Every name podcd gave or found on `id`, in any stack's ledger.
std::set<std::string> LedgerTags(const state::ImageLedger& ledger, const std::string& id) {
  std::set<std::string> out;
  for (const auto& [stack, services] : ledger) {
    for (const auto& [service, images] : services) {
      for (const auto& i : images) {
        if (i.id == id) out.insert(i.tags.begin(), i.tags.end());
      }
    }
  }
  return out;
}

}  // namespace

std::set<std::string> RemovalCandidates(const state::ImageLedger& ledger, const ImageRemovalInput& in) {
  std::set<std::string> out;
  auto s = ledger.find(in.stack);
  if (s == ledger.end()) return out;
  const std::set<std::string> kept = Kept(ledger, in);
  for (const auto& [service, images] : s->second) {
    for (const auto& i : images) {
      if (!kept.contains(i.id)) out.insert(i.id);
    }
  }
  return out;
}

ImageRemovalPlan PlanImageRemoval(const state::ImageLedger& ledger,
                                  const std::vector<podman::ImageSummary>& store,
                                  const ImageRemovalInput& in) {
  ImageRemovalPlan plan;
  for (const auto& id : RemovalCandidates(ledger, in)) {
    auto image = std::find_if(store.begin(), store.end(), [&](const auto& i) { return i.id == id; });
    if (image == store.end()) {
      plan.gone.push_back(id);
      continue;
    }
    if (image->containers > 0) {
      plan.kept.emplace_back(id, "a container uses it");
      continue;
    }
    if (in.named.contains(id)) {
      plan.kept.emplace_back(id, "a compose file names it");
      continue;
    }
    const std::set<std::string> ours = LedgerTags(ledger, id);
    auto foreign = std::find_if(image->repo_tags.begin(), image->repo_tags.end(),
                                [&](const auto& t) { return !ours.contains(t); });
    if (foreign != image->repo_tags.end()) {
      plan.kept.emplace_back(id, "also tagged " + *foreign + ", which podcd did not bring");
      continue;
    }
    plan.remove.push_back(*image);
  }
  return plan;
}

std::int64_t FreedBytes(const std::vector<podman::ImageSummary>& store,
                        const std::vector<std::string>& deleted) {
  auto find = [&](const std::string& id) {
    return std::find_if(store.begin(), store.end(), [&](const auto& i) { return i.id == id; });
  };
  std::int64_t total = 0;
  for (const auto& id : deleted) {
    auto image = find(id);
    if (image == store.end()) continue;
    std::int64_t own = std::max<std::int64_t>(0, image->unique_size);
    if (auto parent = find(image->parent_id); !image->parent_id.empty() && parent != store.end())
      own = std::max(own, image->size - parent->size);
    total += own;
  }
  return total;
}

}  // namespace podcd::reconcile
