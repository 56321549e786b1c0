// The sync's checkout: brings tracked files to a commit and never removes or overwrites an
// untracked or ignored file, whatever the commit's .gitignore says (docs/repository-sync.md).
#pragma once

#include <string>

#include "util/error.hpp"

struct git_repository;
struct git_object;

namespace podcd::git {

// Checks `commit` out over the work tree, with HEAD still at the commit checked out before
// (it is the baseline that tells tracked files from untracked ones). Tracked files end as
// the commit has them: local edits reverted, files the commit deletes deleted. Untracked and
// ignored files stay. When the commit would write where an untracked or ignored file or
// directory is, nothing is written and the error (kAlreadyExists) names the paths, unless
// the file already holds exactly the commit's bytes (outside `secrets_rel`) and is adopted.
// With no HEAD yet (a first clone or a re-clone into a work tree that had one), files that
// are not ignored and not under `secrets_rel` count as left by the previous checkout.
// `secrets_rel`: the secrets directory relative to the work tree ("secrets"), or empty.
[[nodiscard]] Expected<void> CheckoutKeepingUntracked(git_repository* repo, git_object* commit,
                                                      const std::string& secrets_rel);

// repo.secrets_dir relative to the work tree, or "" when it lies outside (pure).
std::string SecretsRelative(const std::string& work_tree, const std::string& secrets_dir);

}  // namespace podcd::git
