#include "git/checkout.hpp"

#include <git2.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "git/libgit2_internal.hpp"

namespace podcd::git {
namespace {

namespace fs = std::filesystem;

// Names the commit being checked out while the checkout writes: a checkout killed half-way
// leaves its files unknown to the index, and this says they are the repository's.
constexpr const char* kMarker = "podcd-checkout";

constexpr std::size_t kShownPaths = 10;

// What the notify callback needs to judge a write, and what it refused.
struct Guard {
  git_repository* repo = nullptr;
  git_index* index = nullptr;
  fs::path work_tree;
  std::string secrets_rel;
  bool fresh = false;   // no HEAD: the index knows nothing yet
  TreePtr interrupted;  // the tree of a checkout that was killed, if any
  std::vector<std::string> refused;
  bool abort_on_refusal = false;
};

bool InSecrets(const Guard& g, std::string_view rel) {
  if (g.secrets_rel.empty()) return false;
  return rel == g.secrets_rel || (rel.starts_with(g.secrets_rel) && rel.size() > g.secrets_rel.size() &&
                                  rel[g.secrets_rel.size()] == '/');
}

// Whether the file at `rel` belongs to the repository (and may be replaced by the commit).
bool Tracked(const Guard& g, const std::string& rel) {
  if (git_index_get_bypath(g.index, rel.c_str(), 0) != nullptr) return true;
  git_tree_entry* raw = nullptr;
  if (g.interrupted && git_tree_entry_bypath(&raw, g.interrupted.get(), rel.c_str()) == 0) {
    EntryPtr entry(raw);
    return git_tree_entry_type(entry.get()) == GIT_OBJECT_BLOB;
  }
  git_error_clear();
  if (!g.fresh || InSecrets(g, rel)) return false;
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, g.repo, rel.c_str()) != 0) {
    git_error_clear();
    return false;
  }
  return ignored == 0;
}

// The first untracked file under the directory `rel`, or "" when every file there is tracked.
std::string UntrackedInside(const Guard& g, const std::string& rel) {
  std::error_code ec;
  const fs::path dir = g.work_tree / rel;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) return rel;  // cannot look inside: assume it holds data
    if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
    std::string file = fs::path(it->path()).lexically_relative(g.work_tree).generic_string();
    if (!Tracked(g, file)) return file;
  }
  return ec ? rel : std::string();
}

// The untracked path that writing `target` over the work tree's `wd` would destroy, or "".
std::string Clobbered(const Guard& g, const git_diff_file& wd, const git_diff_file* target) {
  std::string rel = wd.path;
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (wd.mode == GIT_FILEMODE_TREE) return UntrackedInside(g, rel);
  if (Tracked(g, rel)) return {};
  // A file that already holds the commit's bytes loses nothing: it becomes tracked. Not in the
  // secrets directory, whose files a later commit could then delete.
  if (!InSecrets(g, rel) && target != nullptr && wd.mode == GIT_FILEMODE_BLOB && rel == target->path &&
      (target->mode == GIT_FILEMODE_BLOB || target->mode == GIT_FILEMODE_BLOB_EXECUTABLE)) {
    git_oid oid;
    const std::string full = (g.work_tree / rel).string();
    if (git_odb_hashfile(&oid, full.c_str(), GIT_OBJECT_BLOB) == 0 && git_oid_equal(&oid, &target->id) != 0)
      return {};
    git_error_clear();
  }
  return rel;
}

// libgit2 reports every write here before it makes any. Only UPDATED writes over what is on
// disk: without REMOVE_UNTRACKED and REMOVE_IGNORED, FORCE removes only files the index tracks.
int Notify(git_checkout_notify_t why, const char* /*path*/, const git_diff_file* /*baseline*/,
           const git_diff_file* target, const git_diff_file* workdir, void* payload) {
  if (why != GIT_CHECKOUT_NOTIFY_UPDATED || workdir == nullptr || workdir->path == nullptr) return 0;
  auto* g = static_cast<Guard*>(payload);
  std::string lost = Clobbered(*g, *workdir, target);
  if (lost.empty()) return 0;
  g->refused.push_back(std::move(lost));
  return g->abort_on_refusal ? GIT_EUSER : 0;
}

Error Refusal(const Guard& g) {
  std::string list;
  for (std::size_t i = 0; i < g.refused.size() && i < kShownPaths; ++i) {
    if (i > 0) list += ", ";
    list += g.refused[i];
  }
  if (g.refused.size() > kShownPaths)
    list += " and " + std::to_string(g.refused.size() - kShownPaths) + " more";
  return Error{ErrorCode::kAlreadyExists,
               "the commit would overwrite untracked or ignored files, which a sync never does: " + list +
                   " (move them away, or take them out of the commit)",
               g.work_tree.string()};
}

// The tree named by the marker of a killed checkout; null when there is none.
TreePtr InterruptedTree(git_repository* repo, const fs::path& marker) {
  std::ifstream in(marker);
  std::string hex;
  if (!(in >> hex)) return nullptr;
  git_oid oid;
  git_commit* commit = nullptr;
  if (git_oid_fromstr(&oid, hex.c_str()) != 0 || git_commit_lookup(&commit, repo, &oid) != 0) {
    git_error_clear();
    return nullptr;
  }
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, commit);
  git_commit_free(commit);
  if (rc != 0) git_error_clear();
  return TreePtr(rc == 0 ? tree : nullptr);
}

// The tree HEAD names; null when HEAD is unborn or unreadable.
ObjectPtr HeadTree(git_repository* repo) {
  git_reference* ref = nullptr;
  if (git_repository_head(&ref, repo) != 0) {
    git_error_clear();
    return nullptr;
  }
  git_object* tree = nullptr;
  int rc = git_reference_peel(&tree, ref, GIT_OBJECT_TREE);
  git_reference_free(ref);
  if (rc != 0) git_error_clear();
  return ObjectPtr(rc == 0 ? tree : nullptr);
}

// When the commit turns a tracked directory into a file and the work tree has an untracked
// file there (the directory was replaced by hand), libgit2 1.5 removes that file without a
// notification, and does not write the new one (measured): such paths are refused here.
Expected<void> FindFilesWhereDirectoriesWere(Guard& g, git_object* commit) {
  ObjectPtr old_tree = HeadTree(g.repo);
  if (!old_tree) return {};
  git_object* raw = nullptr;
  if (int rc = git_object_peel(&raw, commit, GIT_OBJECT_TREE); rc != 0)
    return std::unexpected(GitError(rc, "cannot read the commit's tree", ErrorCode::kIo, {}));
  ObjectPtr new_tree(raw);
  git_diff* raw_diff = nullptr;
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
  if (int rc = git_diff_tree_to_tree(&raw_diff, g.repo, reinterpret_cast<git_tree*>(old_tree.get()),
                                     reinterpret_cast<git_tree*>(new_tree.get()), &opts);
      rc != 0)
    return std::unexpected(GitError(rc, "cannot compare the commit with HEAD", ErrorCode::kIo, {}));
  DiffPtr diff(raw_diff);
  for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    if ((d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_TYPECHANGE) ||
        d->new_file.mode == GIT_FILEMODE_TREE)
      continue;
    git_tree_entry* raw_entry = nullptr;
    if (git_tree_entry_bypath(&raw_entry, reinterpret_cast<git_tree*>(old_tree.get()), d->new_file.path) !=
        0) {
      git_error_clear();
      continue;
    }
    EntryPtr was(raw_entry);
    if (git_tree_entry_type(was.get()) != GIT_OBJECT_TREE) continue;
    std::error_code ec;
    auto st = fs::symlink_status(g.work_tree / d->new_file.path, ec);
    if (ec || !fs::exists(st) || fs::is_directory(st) || Tracked(g, d->new_file.path)) continue;
    g.refused.emplace_back(d->new_file.path);
  }
  return {};
}

}  // namespace

std::string SecretsRelative(const std::string& work_tree, const std::string& secrets_dir) {
  if (secrets_dir.empty()) return {};
  fs::path s(secrets_dir);
  fs::path rel = s.is_absolute()
                     ? s.lexically_normal().lexically_relative(fs::path(work_tree).lexically_normal())
                     : s.lexically_normal();
  std::string out = rel.generic_string();
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (out.empty() || out == "." || out == ".." || out.starts_with("../")) return {};
  return out;
}

Expected<void> CheckoutKeepingUntracked(git_repository* repo, git_object* commit,
                                        const std::string& secrets_rel) {
  git_index* raw_index = nullptr;
  if (int rc = git_repository_index(&raw_index, repo); rc < 0)
    return std::unexpected(GitError(rc, "cannot read the index", ErrorCode::kIo, {}));
  IndexPtr index(raw_index);
  const char* wd = git_repository_workdir(repo);
  if (wd == nullptr) return Fail(ErrorCode::kInvalidArgument, "the repository has no work tree");

  Guard guard;
  guard.repo = repo;
  guard.index = index.get();
  guard.work_tree = wd;
  guard.secrets_rel = secrets_rel;
  guard.fresh = git_repository_head_unborn(repo) == 1;
  const fs::path marker = fs::path(git_repository_path(repo)) / kMarker;
  guard.interrupted = InterruptedTree(repo, marker);

  if (auto found = FindFilesWhereDirectoriesWere(guard, commit); !found) return found;
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  // FORCE for tracked files; no REMOVE_UNTRACKED or REMOVE_IGNORED; the baseline is HEAD.
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DRY_RUN;
  co.notify_flags = GIT_CHECKOUT_NOTIFY_UPDATED;
  co.notify_cb = Notify;
  co.notify_payload = &guard;
  // A dry run first, to name every path in one error.
  if (int rc = git_checkout_tree(repo, commit, &co); rc < 0)
    return std::unexpected(GitError(rc, "checkout (dry run) failed", ErrorCode::kIo, {}));
  if (!guard.refused.empty()) return std::unexpected(Refusal(guard));

  // The callback stays, and now stops the checkout before any write if the work tree
  // changed in between.
  guard.abort_on_refusal = true;
  co.checkout_strategy = GIT_CHECKOUT_FORCE;
  {
    std::ofstream out(marker, std::ios::trunc);
    out << git_oid_tostr_s(git_object_id(commit)) << "\n";
    out.flush();
    if (!out) return Fail(ErrorCode::kIo, "cannot write " + marker.string());
  }
  int rc = git_checkout_tree(repo, commit, &co);
  if (rc >= 0 || !guard.refused.empty()) {  // done, or stopped before any write
    std::error_code ec;
    fs::remove(marker, ec);
  }
  if (!guard.refused.empty()) {
    git_error_clear();
    return std::unexpected(Refusal(guard));
  }
  if (rc < 0) return std::unexpected(GitError(rc, "checkout failed", ErrorCode::kIo, {}));
  return {};
}

}  // namespace podcd::git
