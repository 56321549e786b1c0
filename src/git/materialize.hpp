// A commit's files, written out of the local repository's objects (no checkout, no network, the
// work tree and its index untouched): what a pinned stack is deployed from
// (docs/stack-controls.md).
#pragma once

#include <filesystem>
#include <string>

#include "util/error.hpp"

namespace podcd::git {

// Writes every file of `commit`'s tree (regular files with their executable bit, symlinks;
// submodules are left out) under `dest`, which must not exist yet: the tree is written into a
// temporary sibling and renamed into place, so `dest` is either complete or absent. A commit
// the repository does not hold is kNotFound.
[[nodiscard]] Expected<void> MaterializeCommit(const std::string& work_tree, const std::string& commit,
                                               const std::filesystem::path& dest);

}  // namespace podcd::git
