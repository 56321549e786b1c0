// POST /upload (docs/upload.md): an image archive for a stack, streamed to the state directory,
// loaded, and deployed. The server reads the request itself (http/upload_path.cpp) and hands
// the archive to an ImageLoader, which the daemon implements with a `podcd __load-image`
// worker: the daemon links no Podman client.
#pragma once

#include <string>
#include <vector>

#include "util/error.hpp"

namespace podcd::http {

struct LoadResult {
  int status = 200;                 // 200 loaded; 400 or 422 refused (nothing of the stack's changed)
  std::string error;                // why, when refused
  std::vector<std::string> images;  // the stack's image references the archive set
  std::vector<std::string> ids;     // their image ids now
  std::vector<std::string> added;   // image ids the load added
};

class ImageLoader {
 public:
  virtual ~ImageLoader() = default;
  // Checks and loads `archive` for `stack`; an error when the load could not be tried (Podman
  // unreachable, the worker failed). Called off the reactor threads, one load at a time.
  virtual Expected<LoadResult> Load(const std::string& stack, const std::string& archive) = 0;
};

}  // namespace podcd::http
