// `podcd __load-image`: an uploaded archive (POST /upload) checked against its stack and loaded
// into Podman. The daemon streams the upload to <state_dir>/uploads/ and starts this worker
// with the stack in request.trigger.stacks and the archive's path in request.id; the worker
// answers one data event (EncodeLoadAnswer). The daemon links neither libcurl nor Podman's
// client, so the load (a streamed POST /libpod/images/load) happens here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/error.hpp"

namespace podcd::podman {
class Client;
}

namespace podcd::worker {

struct LoadAnswer {
  int status = 200;   // 200 loaded; 400 not an image archive (or Podman refused it); 422 of no use
  std::string error;  // why, for the client, when status is not 200
  // The stack's image references the archive set ("localhost/app:prod"), as the compose file
  // writes them, and each one's image id now.
  std::vector<std::string> images;
  std::vector<std::string> ids;
  std::vector<std::string> added;  // image ids that were not in Podman's store before the load
};

std::string EncodeLoadAnswer(const LoadAnswer& a);
Expected<LoadAnswer> DecodeLoadAnswer(std::string_view json);

// Checks the archive (every tar header, its tags against the images the stack's services name)
// and loads it when one of them is the stack's; nothing is loaded otherwise.
Expected<LoadAnswer> LoadUploadedImage(const config::Config& cfg, podman::Client& client,
                                       const std::string& stack, const std::filesystem::path& archive);

}  // namespace podcd::worker
