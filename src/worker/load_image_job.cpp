// The worker's side of `podcd __load-image` (worker/load_image.hpp).
#include <algorithm>
#include <set>

#include "podman/client.hpp"
#include "podman/image_archive.hpp"
#include "reconcile/desired.hpp"
#include "state/image_ledger.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "worker/load_image.hpp"

namespace podcd::worker {
namespace {

// Loading a large archive takes a while: Podman unpacks every layer.
constexpr std::chrono::minutes kLoadTimeout{30};

LoadAnswer Refused(int status, std::string why) {
  LoadAnswer a;
  a.status = status;
  a.error = std::move(why);
  return a;
}

// The image ledger learns that podcd brought the image for every service of the stack that
// runs it, so that a later deployment's clean-up may remove it once it is old (image_cleanup.hpp).
// A ledger that cannot be written loses a removal, never the upload: logged, not failed.
void RecordLoaded(const config::Config& cfg, const std::string& name, const core::Stack& stack,
                  const std::string& image, const std::string& id) {
  const std::string normal = podman::NormalImageRef(image);
  for (const auto& s : stack.services) {
    if (s.build || podman::NormalImageRef(s.image) != normal) continue;
    if (auto r = state::RecordBrought(cfg.state_dir, name, s.name, id, "loaded", {image}); !r)
      log::Warn("the image ledger did not record an uploaded image",
                {{"stack", name}, {"service", s.name}, {"error", r.error().message}});
  }
}

}  // namespace

Expected<LoadAnswer> LoadUploadedImage(const config::Config& cfg, podman::Client& client,
                                       const std::string& stack, const std::filesystem::path& archive) {
  auto desired = reconcile::LoadDesired(cfg, {}, [&client] { return client.Runtimes(); });
  if (!desired) return std::unexpected(desired.error());
  auto model = desired->models.find(stack);
  if (model == desired->models.end()) {
    const core::DesiredStack* d = desired->Find(stack);
    return Refused(422,
                   "stack " + stack + " cannot take an image: " +
                       (d == nullptr ? std::string("it is not in the repository")
                                     : "it is not deployable as it is (see `podcd plan " + stack + "`)"));
  }
  // Normal form -> the reference as the compose file writes it. A service built from the
  // repository is not one an upload replaces (its next build would).
  std::map<std::string, std::string> used;
  for (const auto& s : model->second.services) {
    if (!s.image.empty() && !s.build) used.emplace(podman::NormalImageRef(s.image), s.image);
  }
  auto contents = podman::ReadImageArchive(archive);
  if (!contents) {
    if (contents.error().code == ErrorCode::kInvalidArgument) return Refused(400, contents.error().message);
    return std::unexpected(contents.error());
  }
  LoadAnswer a;
  for (const auto& tag : contents->tags) {
    auto it = used.find(podman::NormalImageRef(tag));
    if (it != used.end() && std::find(a.images.begin(), a.images.end(), it->second) == a.images.end())
      a.images.push_back(it->second);
  }
  if (a.images.empty()) {
    std::string wanted;
    for (const auto& [normal, image] : used) wanted += (wanted.empty() ? "" : ", ") + image;
    return Refused(422, "the archive's tags (" +
                            (contents->tags.empty() ? "none" : Join(contents->tags, ", ")) +
                            ") are none that a service of stack " + stack + " uses (" +
                            (wanted.empty() ? "none" : wanted) + "): nothing was loaded");
  }
  // What was there before: the archive's image ids (docker-archive), else the tags' ids.
  std::set<std::string> before;
  for (const auto& id : contents->ids) {
    auto exists = client.ImageExists(id);
    if (!exists) return std::unexpected(exists.error());
    if (*exists) before.insert(id);
  }
  for (const auto& image : a.images) {
    if (auto info = client.InspectImage(image)) before.insert(info->id);
  }
  auto names = client.LoadImage(archive, kLoadTimeout);
  if (!names) {
    const ErrorCode c = names.error().code;
    if (c == ErrorCode::kUnavailable || c == ErrorCode::kTimeout || c == ErrorCode::kIo)
      return std::unexpected(names.error());
    return Refused(400, "Podman could not load the archive: " + names.error().message);
  }
  log::Info("uploaded image archive loaded",
            {{"stack", stack}, {"names", Join(*names, ",")}, {"format", contents->format}});
  for (const auto& image : a.images) {
    auto info = client.InspectImage(image);
    if (!info) return std::unexpected(info.error());
    a.ids.push_back(info->id);
    if (!before.contains(info->id) && std::find(a.added.begin(), a.added.end(), info->id) == a.added.end())
      a.added.push_back(info->id);
    RecordLoaded(cfg, stack, model->second, image, info->id);
  }
  return a;
}

}  // namespace podcd::worker
