#include "git/ignore.hpp"

#include <git2.h>

namespace podcd::git {

Expected<IgnoreRules> IgnoreRules::Open(const std::string& work_tree) {
  InitLibgit2();
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, work_tree.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
      rc != 0) {
    const git_error* e = git_error_last();
    std::string msg = e != nullptr && e->message != nullptr ? e->message : "not a git work tree";
    git_error_clear();
    return Fail(ErrorCode::kNotFound, msg, work_tree);
  }
  return IgnoreRules(RepoPtr(raw));
}

bool IgnoreRules::IsIgnored(std::string_view repo_relative) const {
  // Also asked as a directory: a pattern such as "data/" matches only directories, and a bind
  // source that does not exist yet has no type to tell libgit2.
  for (const std::string& path : {std::string(repo_relative), std::string(repo_relative) + "/"}) {
    int ignored = 0;
    if (git_ignore_path_is_ignored(&ignored, repo_.get(), path.c_str()) != 0) {
      git_error_clear();
      continue;
    }
    if (ignored == 1) return true;
  }
  return false;
}

}  // namespace podcd::git
