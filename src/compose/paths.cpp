#include "compose/loader_internal.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "util/context_ignore.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::compose {

bool Within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

std::string HashFile(const fs::path& p, std::uintmax_t& budget, std::string& error) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error = "cannot read " + p.string();
    return {};
  }
  Sha256 h;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    auto n = static_cast<std::uintmax_t>(in.gcount());
    if (n > budget) {
      error = "referenced files are larger than the hashing limit";
      return {};
    }
    budget -= n;
    h.Update(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return h.HexDigest();
}

std::string Loader::RepoRel(const fs::path& p) const {
  if (Within(repo_, p)) return p.lexically_relative(repo_).generic_string();
  return p.string();
}

// Resolves a path relative to the stack directory. Inside the repository (lexically) it
// must also stay inside after following symlinks. Returns nullopt after an error.
// `outside` is set when the path lies outside both roots (only allowed for kAnywhere).
std::optional<Loader::Resolved> Loader::ResolvePath(const Node& n, const std::string& path,
                                                    const std::string& raw, Scope scope, bool* outside) {
  if (raw.empty()) {
    Err(n, path, "the path is empty");
    return std::nullopt;
  }
  if (raw.front() == '~') {
    // Compose expands ~ to the home of the user who runs it; podcd is a daemon, whose home is
    // no one's: the path would point elsewhere than its author meant.
    Err(n, path,
        "paths starting with ~ are not supported: " + Quoted(raw) +
            " (compose expands ~ to the home directory of the user running it; podcd runs as a daemon, "
            "which has no user's home: write an absolute path, e.g. /home/<user>/..., or a path relative "
            "to the stack directory, e.g. ./data)");
    return std::nullopt;
  }
  if (raw.find('\0') != std::string::npos) {
    Err(n, path, "the path contains a NUL byte");
    return std::nullopt;
  }
  // Relative to the directory of the file the value was written in (an included file's
  // project directory, an extended file's directory); the stack's for the compose file.
  const SourceFile* source = SourceOf(n.mark);
  fs::path p = fs::path(raw).is_absolute() ? fs::path(raw) : (source ? source->dir : dir_) / raw;
  p = p.lexically_normal();
  bool lex_repo = Within(repo_, p);
  bool lex_secrets = !secrets_.empty() && Within(secrets_, p);
  if (!lex_repo && !lex_secrets) {
    if (scope == Scope::kAnywhere && fs::path(raw).is_absolute()) {
      if (outside) *outside = true;
      return Resolved{p, p.string(), false};
    }
    Err(n, path,
        Quoted(raw) + " points outside the repository" +
            std::string(secrets_.empty() ? "" : " and the secrets directory") + " (" + p.string() + ")");
    return std::nullopt;
  }
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  if (ec) {
    Err(n, path,
        "cannot resolve " + Quoted(raw) + ": " + ec.message() +
            (ec == std::errc::too_many_symbolic_link_levels ? " (symlink loop)" : ""));
    return std::nullopt;
  }
  Resolved r;
  r.abs = c;
  if (Within(repo_, c)) {
    r.key = c.lexically_relative(repo_).generic_string();
    if (r.key == ".") r.key = "";
  } else if (!secrets_.empty() && Within(secrets_, c)) {
    r.key = "<secrets>/" + c.lexically_relative(secrets_).generic_string();
  } else {
    Err(n, path,
        Quoted(raw) + " resolves through a symlink to " + c.string() + ", outside the repository" +
            std::string(secrets_.empty() ? "" : " and the secrets directory"));
    return std::nullopt;
  }
  auto st = fs::symlink_status(c, ec);
  r.exists = !ec && fs::exists(st);
  return r;
}

// Reads a small text file already resolved (regular files only).
std::optional<std::string> Loader::ReadSmall(const Node& n, const std::string& path, const Resolved& r) {
  std::error_code ec;
  if (!fs::is_regular_file(r.abs, ec)) {
    Err(n, path, r.key + " is not a regular file");
    return std::nullopt;
  }
  auto text = ReadFile(r.abs, opt_.max_file_bytes);
  if (!text) {
    Err(n, path, r.key + ": " + text.error().message);
    return std::nullopt;
  }
  return std::move(*text);
}

// Records a referenced file or directory with its digest; returns its key.
// `build_file`: for a build context, its Containerfile (never left out by the ignore file).
std::optional<std::string> Loader::Reference(const Node& n, const std::string& path, const Resolved& r,
                                             core::FileKind kind, const std::string& build_file) {
  if (auto it = out_.files.find(r.key); it != out_.files.end()) {
    if (kind != core::FileKind::kBindFile && kind != core::FileKind::kBindDir) it->second.kind = kind;
    return r.key;
  }
  core::ReferencedFile f;
  f.path = r.key;
  f.kind = kind;
  std::error_code ec;
  std::string error;
  const bool bind = kind == core::FileKind::kBindFile || kind == core::FileKind::kBindDir;
  if (bind && opt_.is_ignored && opt_.is_ignored(r.key)) {
    // Data the container owns (git ignores it): whether it exists yet, and what it holds,
    // must not change the fingerprint.
    f.kind = core::FileKind::kBindDir;
    f.sha256 = Sha256Hex("ignored");
    out_.files[r.key] = f;
    return r.key;
  }
  if (!r.exists) {
    f.kind = core::FileKind::kMissing;
    f.sha256 = Sha256Hex("missing");
  } else if (fs::is_directory(r.abs, ec)) {
    if (kind == core::FileKind::kConfig || kind == core::FileKind::kSecret ||
        kind == core::FileKind::kEnvFile) {
      Err(n, path, r.key + " is a directory, not a file");
      return std::nullopt;
    }
    if (kind == core::FileKind::kBuildContext) {
      // What `podman build` leaves out (.containerignore, .dockerignore) changes nothing.
      f.kind = kind;
      auto ignore = ContextIgnore::Load(r.abs);
      if (!ignore) {
        Err(n, path, ignore.error().What());
        return std::nullopt;
      }
      std::vector<std::string> keep = {build_file};
      if (!ignore->File().empty()) keep.push_back(ignore->File());
      f.sha256 = HashDir(r.abs, error, &*ignore, keep);
    } else {
      f.kind = core::FileKind::kBindDir;
      f.sha256 = HashDir(r.abs, error);
    }
  } else if (fs::is_regular_file(r.abs, ec)) {
    if (kind == core::FileKind::kBindDir) f.kind = core::FileKind::kBindFile;
    f.sha256 = HashFile(r.abs, budget_, error);
  } else {
    Err(n, path, r.key + " is neither a regular file nor a directory");
    return std::nullopt;
  }
  if (!error.empty()) {
    Err(n, path, r.key + ": " + error);
    return std::nullopt;
  }
  out_.files[r.key] = f;
  return r.key;
}

std::string Loader::HashDir(const fs::path& root, std::string& error, const ContextIgnore* ignore,
                            const std::vector<std::string>& keep) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  std::size_t count = 0;
  for (; !ec && it != end; it.increment(ec)) {
    if (++count > opt_.max_dir_entries) {
      error = "holds more than " + std::to_string(opt_.max_dir_entries) +
              " files and directories, podcd's limit (a directory the ignore file leaves out whole is not "
              "counted)";
      return {};
    }
    const auto& p = it->path();
    // A repository's own metadata changes with every fetch: never part of a bind's digest.
    if (p.filename() == ".git") {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::string rel = p.lexically_relative(root).generic_string();
    auto st = it->symlink_status(ec);
    if (ec) break;
    if (ignore != nullptr && ignore->LeavesOut(rel, keep)) {
      if (fs::is_directory(st) && ignore->SkipsWhole(rel, keep)) it.disable_recursion_pending();
      continue;
    }
    if (fs::is_symlink(st)) {
      entries.emplace_back(rel, "l " + fs::read_symlink(p, ec).string());
    } else if (fs::is_directory(st)) {
      entries.emplace_back(rel, "d");
    } else if (fs::is_regular_file(st)) {
      std::string h = HashFile(p, budget_, error);
      if (!error.empty()) return {};
      entries.emplace_back(rel, "f " + h);
    } else {
      entries.emplace_back(rel, "o");
    }
  }
  if (ec) {
    error = "cannot list " + root.string() + ": " + ec.message();
    return {};
  }
  std::sort(entries.begin(), entries.end());
  Sha256 h;
  for (const auto& [name, what] : entries) {
    h.Update(name);
    h.Update(std::string_view("\0", 1));
    h.Update(what);
    h.Update("\n");
  }
  return h.HexDigest();
}

}  // namespace podcd::compose
