// Private to git/: owning handles for libgit2's objects, and the one place a libgit2 error
// becomes a podcd::Error (repo.cpp and checkout.cpp share both).
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace podcd::git {

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using ObjectPtr = std::unique_ptr<git_object, GitDeleter<git_object, git_object_free>>;
using ReferencePtr = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using IndexPtr = std::unique_ptr<git_index, GitDeleter<git_index, git_index_free>>;
using TreePtr = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using EntryPtr = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>>;
using DiffPtr = std::unique_ptr<git_diff, GitDeleter<git_diff, git_diff_free>>;

// libgit2's last error after `what` failed with `rc`, `secret` masked out of it (a token may
// be echoed inside a URL).
Error GitError(int rc, std::string_view what, ErrorCode code, const std::string& context,
               const std::string& secret = {});

}  // namespace podcd::git
