// The images of one stack, ready before anything stops: each checked, pulled or built once per
// stack (services often share one); redeploy-and-update pulls them again and marks the
// services whose image moved for recreation. Used by the applier (apply.cpp).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reconcile/apply.hpp"
#include "reconcile/runtime.hpp"

namespace podcd::reconcile {

class StackImages {
 public:
  // `update`: redeploy-and-update (pull every image with policy always). `write_calls` counts
  // the pulls and builds.
  StackImages(Runtime& rt, Clock& clock, bool update, LogFn log, std::atomic<int>& write_calls)
      : rt_(rt), clock_(clock), update_(update), log_(std::move(log)), write_calls_(write_calls) {}

  // Image references uploaded for the stack: read as they are here, never pulled (the
  // uploaded-image rule, docs/upload.md).
  StackImages& KeepUploaded(const std::set<std::string>& images) {
    uploaded_ = images;
    return *this;
  }

  // The images of every service that changes (of every service when updating); false with
  // `reason` set when one fails.
  bool Prepare(std::vector<ServiceJob>& services, std::string& reason);
  // The images Prepare brought for the services: pulled or built, not found here already (base
  // images of a build are not the services' own: never listed).
  std::vector<ImageBrought> TakeBrought() { return std::move(brought_); }

 private:
  template <typename T>
  Expected<T> Write(Expected<T> r) {
    ++write_calls_;
    return r;
  }
  // What Prepare did for one service's image: all there is to do, or the image's id is
  // ready to compare with what runs (redeploy-and-update), or failed (reason set).
  enum class ImageStep { kDone, kCompare, kFailed };
  ImageStep BuiltImage(const ServiceJob& s, std::string& id, std::string& reason);
  ImageStep PulledImage(const ServiceJob& s, std::string& id, std::string& reason);
  Expected<bool> ImageExistsOnce(const std::string& image);
  // `image` (the service's reference) was brought as `id`: recorded for `service`.
  void Brought(const std::string& service, const std::string& image, const std::string& id,
               const std::string& how);
  bool PullOnce(const std::string& image, podman::PullPolicy policy, const std::string& what, std::string& id,
                std::string& reason);
  bool BaseImagesKey(const ServiceJob& s, podman::PullPolicy policy, std::string& key, std::string& reason);

  Runtime& rt_;
  Clock& clock_;
  const bool update_;
  LogFn log_;
  std::atomic<int>& write_calls_;
  std::set<std::string> present_;
  std::map<std::string, std::string> pulled_;          // "image|policy" -> id
  std::set<std::string> brought_ids_;                  // ids this run brought
  std::map<std::string, std::string> brought_images_;  // reference -> id, for the services sharing it
  std::vector<ImageBrought> brought_;
  std::set<std::string> uploaded_;
};

}  // namespace podcd::reconcile
