// What an image archive holds, read without loading it: `podman save`'s docker-archive
// (manifest.json's RepoTags) or oci-archive (index.json's ref.name annotations), plain or
// gzip-compressed. Every tar header is read and checked to the end-of-archive blocks, so a
// truncated, corrupt or non-tar file is refused before Podman sees it (POST /upload).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::podman {

struct ImageArchive {
  std::string format;  // "docker-archive" or "oci-archive"
  bool gzip = false;
  std::vector<std::string> tags;  // as written in the archive
  // The image ids (config digests, hex) a docker-archive's manifest names; empty for OCI.
  std::vector<std::string> ids;
};

// kInvalidArgument naming what is wrong ("truncated", "not a tar archive", "no manifest.json or
// index.json"); kIo when the file cannot be read.
Expected<ImageArchive> ReadImageArchive(const std::filesystem::path& file);

// A reference in the form Podman stores it, for comparing names: "docker.io/library/" before a
// bare name, "docker.io/" before a path without a registry, ":latest" when no tag or digest.
std::string NormalImageRef(std::string_view ref);

}  // namespace podcd::podman
