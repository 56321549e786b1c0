#include "git/materialize.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "git/libgit2_internal.hpp"
#include "git/repo.hpp"

namespace podcd::git {
namespace {

namespace fs = std::filesystem;
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitDeleter<git_blob, git_blob_free>>;

struct Repo {
  std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>> repo;
};

Expected<Repo> Open(const std::string& work_tree) {
  InitLibgit2();
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, work_tree.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
      rc != 0)
    return std::unexpected(GitError(rc, "opening the repository", ErrorCode::kNotFound, work_tree));
  Repo r;
  r.repo.reset(raw);
  return r;
}

Expected<CommitPtr> Lookup(git_repository* repo, const std::string& commit) {
  git_object* obj = nullptr;
  if (commit.empty() || commit.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "not a commit id", commit);
  if (int rc = git_revparse_single(&obj, repo, commit.c_str()); rc != 0)
    return std::unexpected(GitError(rc, "looking up the commit", ErrorCode::kNotFound, commit));
  ObjectPtr o(obj);
  git_object* peeled = nullptr;
  if (int rc = git_object_peel(&peeled, o.get(), GIT_OBJECT_COMMIT); rc != 0)
    return std::unexpected(GitError(rc, "not a commit", ErrorCode::kNotFound, commit));
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

Expected<void> WriteBlob(git_repository* repo, const git_tree_entry* entry, const fs::path& path) {
  git_blob* raw = nullptr;
  if (int rc = git_blob_lookup(&raw, repo, git_tree_entry_id(entry)); rc != 0)
    return std::unexpected(GitError(rc, "reading a file", ErrorCode::kIo, path.string()));
  BlobPtr blob(raw);
  const auto* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  const auto size = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
  const git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_LINK) {
    if (::symlink(std::string(data, size).c_str(), path.c_str()) != 0)
      return Fail(ErrorCode::kIo, std::string("symlink: ") + std::strerror(errno), path.string());
    return {};
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("open: ") + std::strerror(errno), path.string());
  std::size_t off = 0;
  while (off < size) {
    const ssize_t n = ::write(fd, data + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Fail(ErrorCode::kIo, std::string("write: ") + std::strerror(err), path.string());
    }
    off += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    return Fail(ErrorCode::kIo, std::string("close: ") + std::strerror(errno), path.string());
  return {};
}

Expected<void> WriteTree(git_repository* repo, const git_tree* tree, const fs::path& dir) {
  for (std::size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    const std::string name = git_tree_entry_name(entry);
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name == ".git")
      return Fail(ErrorCode::kInvalidArgument, "a tree entry named " + name, dir.string());
    const fs::path path = dir / name;
    switch (git_tree_entry_type(entry)) {
      case GIT_OBJECT_TREE: {
        if (::mkdir(path.c_str(), 0755) != 0)
          return Fail(ErrorCode::kIo, std::string("mkdir: ") + std::strerror(errno), path.string());
        git_tree* sub = nullptr;
        if (int rc = git_tree_lookup(&sub, repo, git_tree_entry_id(entry)); rc != 0)
          return std::unexpected(GitError(rc, "reading a directory", ErrorCode::kIo, path.string()));
        TreePtr owned(sub);
        if (auto r = WriteTree(repo, owned.get(), path); !r) return r;
        break;
      }
      case GIT_OBJECT_BLOB:
        if (auto r = WriteBlob(repo, entry, path); !r) return r;
        break;
      default: break;  // a submodule (a commit): not in this repository's objects
    }
  }
  return {};
}

}  // namespace

Expected<void> MaterializeCommit(const std::string& work_tree, const std::string& commit,
                                 const fs::path& dest) {
  auto repo = Open(work_tree);
  if (!repo) return std::unexpected(repo.error());
  auto c = Lookup(repo->repo.get(), commit);
  if (!c) return std::unexpected(c.error());
  git_tree* raw = nullptr;
  if (int rc = git_commit_tree(&raw, c->get()); rc != 0)
    return std::unexpected(GitError(rc, "reading the commit's tree", ErrorCode::kIo, commit));
  TreePtr tree(raw);
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create: " + ec.message(), dest.parent_path().string());
  std::string tmpl = (dest.parent_path() / ("." + dest.filename().string() + ".XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return Fail(ErrorCode::kIo, std::string("mkdtemp: ") + std::strerror(errno), tmpl);
  const fs::path tmp = tmpl;
  ::chmod(tmp.c_str(), 0755);
  if (auto r = WriteTree(repo->repo.get(), tree.get(), tmp); !r) {
    fs::remove_all(tmp, ec);
    return r;
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(tmp, ec);
    return Fail(ErrorCode::kIo, std::string("rename: ") + std::strerror(err), dest.string());
  }
  return {};
}

}  // namespace podcd::git
