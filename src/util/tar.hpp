// A POSIX ustar archive of a directory, in memory: what Podman's build endpoint takes as its
// context. Regular files, directories and symlinks, with their modes and times; owner root.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "util/context_ignore.hpp"
#include "util/error.hpp"

namespace podcd {

struct TarOptions {
  std::vector<std::string> skip_top;  // names left out at the top level (".git")
  std::size_t max_bytes = std::size_t{512} << 20;
  const ContextIgnore* ignore = nullptr;  // paths it excludes are left out...
  std::vector<std::string> keep;          // ...except these (the Containerfile, the ignore file)
};

// Paths are relative to `dir`, in a sorted order. A path too long for ustar (100 bytes, or
// 155 + 100 split at a '/'), a special file, or an archive over max_bytes is an error naming it.
Expected<std::string> TarDirectory(const std::filesystem::path& dir, const TarOptions& options = {});

}  // namespace podcd
