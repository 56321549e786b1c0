// The images podcd brought to the host (pulled, built, or loaded from an upload), per stack and
// service, in the order each service used them. Only an image named here is ever removed
// (reconcile/image_removal.hpp): an image a person pulled, a base image, anything else on the
// host is not podcd's to remove. Kept in <state_dir>/images.json; the `podcd __run` workers and
// the daemon (an upload's image load) read-modify-write it under an flock, atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::state {

struct BroughtImage {
  std::string id;   // the full image id
  std::string how;  // pulled, built, loaded
  // The names it had when podcd brought it: one it has since that is not among them (a person
  // tagged it) keeps it.
  std::vector<std::string> tags;
  std::int64_t brought_ms = 0;
  std::int64_t used_ms = 0;  // when a successful deployment of the service last ran it; 0: never
  bool operator==(const BroughtImage&) const = default;
};

// Oldest use first: the last one is the image the service used most recently.
using ServiceImages = std::vector<BroughtImage>;
using StackImages = std::map<std::string, ServiceImages>;  // by service
using ImageLedger = std::map<std::string, StackImages>;    // by stack; no empty entries

// <state_dir>/images.json
std::filesystem::path ImageLedgerPath(const std::filesystem::path& state_dir);

std::string EncodeImageLedger(const ImageLedger& ledger);
// Refuses what it does not understand, naming the stack and the field (`where` names the file).
Expected<ImageLedger> DecodeImageLedger(std::string_view json, const std::string& where);
// A missing file is an empty ledger; a damaged one is an error naming it.
Expected<ImageLedger> ReadImageLedger(const std::filesystem::path& file);

// Adds `image` as the service's newest (moved there when listed already; its tags merged).
void AddBrought(ImageLedger& ledger, const std::string& stack, const std::string& service,
                BroughtImage image);
// Moves image `id` to the end of the service's list, used at `now_ms`; false when the list
// lacks it (the service runs an image podcd did not bring).
bool MarkUsed(ImageLedger& ledger, const std::string& stack, const std::string& service,
              const std::string& id, std::int64_t now_ms);
// Forgets image `id` everywhere (it is gone from the store).
void Forget(ImageLedger& ledger, const std::string& id);

// Read-modify-write of the file, safe across threads and processes (an flock on <file>.lock).
class ImageLedgerFile {
 public:
  explicit ImageLedgerFile(std::filesystem::path file) : file_(std::move(file)) {}
  [[nodiscard]] const std::filesystem::path& Path() const { return file_; }
  [[nodiscard]] Expected<ImageLedger> Read() const { return ReadImageLedger(file_); }
  // Applies `change` and writes the file; returns the ledger as written.
  Expected<ImageLedger> Update(const std::function<void(ImageLedger&)>& change);

 private:
  std::filesystem::path file_;
  std::mutex mutex_;  // guards the file, not data: one writer of this process at a time
};

// The one call for whoever brings an image outside a deployment's image step (the upload's
// image load: how = "loaded"): records it as the service's newest image of the stack.
Expected<void> RecordBrought(const std::filesystem::path& state_dir, const std::string& stack,
                             const std::string& service, const std::string& image_id, const std::string& how,
                             std::vector<std::string> tags = {});

}  // namespace podcd::state
