// The images uploaded through POST /upload (docs/upload.md), per stack, in
// <state_dir>/uploads.json: the daemon writes it after each load, the `podcd __run` worker reads
// it. It carries the uploaded-image rule: a service whose image reference is a tag uploaded for
// its stack is not pulled over (redeploy-and-update, a deploy with pull) unless the trigger asks
// for it; the rule ends for that service when the repository names another image. It also
// names the image ids each load added, for the removal of images podcd brought.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace podcd::state {

struct UploadedImage {
  std::string image;               // the tag the stack's service uses ("localhost/app:prod")
  std::string id;                  // its image id after the load
  std::vector<std::string> added;  // image ids the load added (none of them was there before)
  std::string deployment;          // the deployment the upload started
  std::string actor;
  std::int64_t at_ms = 0;
  bool operator==(const UploadedImage&) const = default;
};

// By stack; one entry per image reference (a newer upload of the same tag replaces it).
using Uploads = std::map<std::string, std::vector<UploadedImage>>;

std::filesystem::path UploadsPath(const std::filesystem::path& state_dir);
// Where the archives are streamed to while they are received and loaded.
std::filesystem::path UploadsDir(const std::filesystem::path& state_dir);

// A missing file is no uploads; a damaged one is an error naming it.
Expected<Uploads> ReadUploads(const std::filesystem::path& file);
// Adds (or replaces, by image reference) the stack's entry; written atomically.
Expected<void> RecordUpload(const std::filesystem::path& file, const std::string& stack, UploadedImage entry);

// The stack's uploaded image references (the rule's set).
std::set<std::string> UploadedImages(const Uploads& uploads, const std::string& stack);
// The image ids the uploads of `stack` added (the images removal's join).
std::vector<std::string> AddedImageIds(const Uploads& uploads, const std::string& stack);

std::string EncodeUploads(const Uploads& uploads);
// `where` names the text in errors (the file).
Expected<Uploads> DecodeUploads(std::string_view text, const std::string& where);

}  // namespace podcd::state
