#include "reconcile/images.hpp"

#include <filesystem>
#include <optional>

#include "reconcile/containerfile.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

std::int64_t Elapsed(Clock& clock, std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now() - since).count();
}

bool IsWork(core::Action a) { return a == core::Action::kCreate || a == core::Action::kRecreate; }

}  // namespace

Expected<bool> StackImages::ImageExistsOnce(const std::string& image) {
  if (present_.contains(image)) return true;
  auto exists = rt_.ImageExists(image);
  if (exists && *exists) present_.insert(image);
  return exists;
}

void StackImages::Brought(const std::string& service, const std::string& image, const std::string& id,
                          const std::string& how) {
  ImageBrought b{service, id, how, {}};
  if (auto info = rt_.InspectImage(id)) b.tags = std::move(info->repo_tags);
  brought_ids_.insert(id);
  brought_images_[image] = id;
  brought_.push_back(std::move(b));
}

bool StackImages::PullOnce(const std::string& image, podman::PullPolicy policy, const std::string& what,
                           std::string& id, std::string& reason) {
  const std::string key = image + "|" + std::string(podman::ToString(policy));
  if (auto cached = pulled_.find(key); cached != pulled_.end()) {
    id = cached->second;
    return true;
  }
  auto start = clock_.Now();
  auto fresh = Write(rt_.Pull(image, policy));
  if (!fresh) {
    reason = "pull of " + image + " for " + what + " failed: " + fresh.error().What();
    return false;
  }
  id = *fresh;
  pulled_.emplace(key, id);
  present_.insert(image);
  log_("pulled " + image + " (" + id.substr(0, 12) + ") for " + what + " in " +
       std::to_string(Elapsed(clock_, start)) + " ms");
  return true;
}

// The images a built service builds from, pulled, as one key: "image=id" lines, hashed.
bool StackImages::BaseImagesKey(const ServiceJob& s, podman::PullPolicy policy, std::string& key,
                                std::string& reason) {
  namespace fs = std::filesystem;
  const fs::path context = s.build->context_dir;
  const fs::path file = context / (s.build->dockerfile.empty() ? "Containerfile" : s.build->dockerfile);
  // The loader refused a Containerfile that resolves out of its context; it is read as root, so
  // the check is made again here, right before the read (only the path is ever named).
  std::error_code ec;
  std::error_code context_ec;
  const fs::path real = fs::weakly_canonical(file, ec);
  const fs::path real_context = fs::weakly_canonical(context, context_ec);
  const fs::path rel = real.lexically_relative(real_context);
  if (ec || context_ec || rel.empty() || *rel.begin() == "..") {
    reason = "service " + s.name + ": " + file.string() + " resolves out of its build context: not read";
    return false;
  }
  auto text = ReadFile(real, 1u << 20);
  if (!text) {
    reason = "service " + s.name + ": " + text.error().What();
    return false;
  }
  std::string lines;
  for (const auto& base : BaseImages(*text, s.build->args)) {
    std::string id;
    // Present and not to be updated, or a localhost/ image (built or imported here, no
    // registry serves it): its local id, no pull.
    if (policy == podman::PullPolicy::kMissing || base.starts_with("localhost/")) {
      if (auto info = rt_.InspectImage(base)) id = info->id;
    }
    if (id.empty() && !PullOnce(base, policy, "the build of " + s.name, id, reason)) return false;
    lines += base + "=" + id + "\n";
  }
  key = Sha256Hex(lines).substr(0, 16);
  return true;
}

// Built from the repository: the tag names the content, so a present tag is this build. The
// ids of the images it was built from are a label of the image: redeploy-and-update pulls
// those images again and builds it again when one of them moved.
StackImages::ImageStep StackImages::BuiltImage(const ServiceJob& s, std::string& id, std::string& reason) {
  const std::string& image = s.spec.image;
  auto start = clock_.Now();
  // The tag as it is here: whether it exists, and (when updating) its id and labels, in one call.
  std::optional<podman::ImageInfo> current;
  if (update_) {
    auto info = rt_.InspectImage(image);
    if (info) {
      current = std::move(*info);
    } else if (info.error().code != ErrorCode::kNotFound) {
      reason = "service " + s.name + ": " + info.error().What();
      return ImageStep::kFailed;
    }
  } else {
    auto exists = ImageExistsOnce(image);
    if (!exists) {
      reason = "service " + s.name + ": " + exists.error().What();
      return ImageStep::kFailed;
    }
    if (*exists) return ImageStep::kDone;
  }
  std::string key;
  if (!BaseImagesKey(s, update_ ? podman::PullPolicy::kAlways : podman::PullPolicy::kMissing, key, reason))
    return ImageStep::kFailed;
  bool build = !current;
  if (current) {
    id = current->id;
    auto label = current->labels.find(std::string(kLabelBaseImages));
    build = label == current->labels.end() || label->second != key;
    if (build) log_("an image that " + image + " is built from moved: building it again");
  }
  if (build) {
    podman::BuildRequest request = *s.build;
    request.labels[std::string(kLabelBaseImages)] = key;
    auto built = Write(rt_.Build(request));
    if (!built) {
      reason = "build of " + image + " for service " + s.name + " failed: " + built.error().What();
      return ImageStep::kFailed;
    }
    id = *built;
    present_.insert(image);
    Brought(s.name, image, id, "built");
    log_("built " + image + " for " + s.name + " in " + std::to_string(Elapsed(clock_, start)) + " ms");
  }
  return update_ ? ImageStep::kCompare : ImageStep::kDone;
}

StackImages::ImageStep StackImages::PulledImage(const ServiceJob& s, std::string& id, std::string& reason) {
  const std::string& image = s.spec.image;
  if (s.pull_never) {
    auto exists = ImageExistsOnce(image);
    if (!exists || !*exists) {
      reason = "service " + s.name + ": image " + image + " is not present and pull_policy is never";
      return ImageStep::kFailed;
    }
    return ImageStep::kDone;
  }
  // Podman names images it built or imported localhost/...: no registry serves them, so
  // redeploy-and-update reads their local id instead of pulling (which would fail). An uploaded
  // image is read the same way: a pull would put the registry's over it.
  const bool uploaded = uploaded_.contains(image);
  const bool local_only = image.starts_with("localhost/") || uploaded;
  if (uploaded && update_) log_("image " + image + " was uploaded for this stack: not pulled");
  podman::PullPolicy policy = update_ && !local_only ? podman::PullPolicy::kAlways : s.pull;
  if (uploaded) policy = podman::PullPolicy::kMissing;  // whatever the service's pull_policy says
  if (policy == podman::PullPolicy::kMissing && !update_) {
    auto exists = ImageExistsOnce(image);
    if (!exists) {
      reason = "service " + s.name + ": " + exists.error().What();
      return ImageStep::kFailed;
    }
    if (*exists) {
      // Pulled for another service of the stack just now: this one's too.
      if (auto b = brought_images_.find(image); b != brought_images_.end())
        Brought(s.name, image, b->second, "pulled");
      return ImageStep::kDone;
    }
  }
  // The id the tag had before, to tell a pull that brought an image from one that found it here
  // (an image a person pulled is not podcd's to remove later).
  std::string before;
  const bool cached = pulled_.contains(image + "|" + std::string(podman::ToString(policy)));
  if (!cached && (policy != podman::PullPolicy::kMissing || update_)) {
    if (auto info = rt_.InspectImage(image)) before = info->id;
  }
  if (!PullOnce(image, policy, s.name, id, reason)) return ImageStep::kFailed;
  if (cached ? brought_ids_.contains(id) : id != before) Brought(s.name, image, id, "pulled");
  return ImageStep::kCompare;
}

bool StackImages::Prepare(std::vector<ServiceJob>& services, std::string& reason) {
  for (auto& s : services) {
    if (!IsWork(s.action) && !update_) continue;
    if (s.action == core::Action::kRemove) continue;
    if (s.spec.image.empty()) {
      reason = "service " + s.name + " has no image";
      return false;
    }
    std::string id;  // the image's id now
    const ImageStep step = s.build ? BuiltImage(s, id, reason) : PulledImage(s, id, reason);
    if (step == ImageStep::kFailed) return false;
    if (step == ImageStep::kDone) continue;
    if (update_ && s.action == core::Action::kUnchanged && !s.old_containers.empty()) {
      auto st = rt_.Inspect(s.old_containers.front());
      if (st && st->image_id != id) {
        s.action = core::Action::kRecreate;
        s.reasons.push_back("image " + s.spec.image + " updated");
      }
    }
  }
  return true;
}

}  // namespace podcd::reconcile
