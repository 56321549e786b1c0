#include "git/repo.hpp"

#include <git2.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <regex>

#include "config/remote_url.hpp"
#include "git/checkout.hpp"
#include "git/known_hosts.hpp"
#include "git/libgit2_internal.hpp"
#include "util/file_lock.hpp"
#include "util/log.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"

namespace podcd::git {

void RepoDeleter::operator()(git_repository* r) const noexcept { git_repository_free(r); }

namespace {

namespace fs = std::filesystem;

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

// Replaces every occurrence of a secret (the token may be echoed inside a URL).
std::string Mask(std::string text, const std::string& secret) {
  log::MaskSecret(text, secret);
  return text;
}

// Where the remote lives, for credentials and the host-key check.
struct RemoteEndpoint {
  bool ssh = false;
  std::string user;
  std::string host;
  std::uint16_t port = 22;
};

RemoteEndpoint ParseEndpoint(const std::string& url) {
  RemoteEndpoint ep;
  static const std::regex with_scheme(
      R"(^([a-zA-Z][a-zA-Z0-9+.-]*)://(?:([^@/]*)@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?)");
  static const std::regex scp_like(R"(^(?:([^@/:]+)@)?([^/:]+):)");
  std::smatch m;
  if (std::regex_search(url, m, with_scheme)) {
    std::string scheme = m[1].str();
    ep.ssh = scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git";
    ep.user = m[2].str();
    if (auto colon = ep.user.find(':'); colon != std::string::npos) ep.user.resize(colon);
    ep.host = m[3].str();
    if (ep.host.size() > 2 && ep.host.front() == '[') ep.host = ep.host.substr(1, ep.host.size() - 2);
    if (m[4].matched)
      ep.port = static_cast<std::uint16_t>(std::stoi(m[4].str()));
    else if (!ep.ssh)
      ep.port = 0;
  } else if (url.find("://") == std::string::npos && !url.starts_with("/") && !url.starts_with(".") &&
             std::regex_search(url, m, scp_like)) {
    ep.ssh = true;
    ep.user = m[1].str();
    ep.host = m[2].str();
  }
  if (ep.ssh && ep.user.empty()) ep.user = "git";
  return ep;
}

// Payload of the remote callbacks: what they need, and why they refused.
struct RemoteAuth {
  const config::Config::Repo* cfg = nullptr;
  RemoteEndpoint ep;
  int attempts = 0;
  std::string failure;
  ErrorCode failure_code = ErrorCode::kUnauthenticated;
};

int Credentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                unsigned int allowed, void* payload) {
  auto* a = static_cast<RemoteAuth*>(payload);
  const std::string user =
      (username_from_url != nullptr && *username_from_url != '\0') ? username_from_url : a->ep.user;
  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0 && (allowed & GIT_CREDENTIAL_SSH_KEY) == 0) {
    return git_credential_username_new(out, user.empty() ? "git" : user.c_str());
  }
  // libgit2 asks again after every rejection: a second request means the first was refused.
  if (++a->attempts > 1) {
    a->failure = "authentication failed: the remote refused the configured credentials";
    a->failure_code = ErrorCode::kUnauthenticated;
    return GIT_EUSER;
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && !a->cfg->ssh_key_file.empty()) {
    std::error_code ec;
    if (!fs::exists(a->cfg->ssh_key_file, ec)) {
      a->failure = "repo.ssh_key_file " + a->cfg->ssh_key_file + " does not exist";
      a->failure_code = ErrorCode::kInvalidArgument;
      return GIT_EUSER;
    }
    std::string pub = a->cfg->ssh_key_file + ".pub";
    bool has_pub = fs::exists(pub, ec);
    return git_credential_ssh_key_new(out, user.empty() ? "git" : user.c_str(),
                                      has_pub ? pub.c_str() : nullptr, a->cfg->ssh_key_file.c_str(), nullptr);
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !a->cfg->token.empty()) {
    std::string token_user =
        (username_from_url != nullptr && *username_from_url != '\0') ? username_from_url : "x-access-token";
    return git_credential_userpass_plaintext_new(out, token_user.c_str(), a->cfg->token.c_str());
  }
  a->failure = (allowed & GIT_CREDENTIAL_SSH_KEY) != 0
                   ? "the remote asks for an SSH key but repo.ssh_key_file is not set"
                   : "the remote asks for credentials but repo.token is not set";
  a->failure_code = ErrorCode::kUnauthenticated;
  return GIT_EUSER;
}

int CertificateCheck(git_cert* cert, int /*valid*/, const char* host, void* payload) {
  auto* a = static_cast<RemoteAuth*>(payload);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;  // TLS: libgit2's own check
  const std::string name = a->ep.host.empty() ? std::string(host != nullptr ? host : "") : a->ep.host;
  const std::string shown = a->ep.port == 22 ? name : "[" + name + "]:" + std::to_string(a->ep.port);
  a->failure_code = ErrorCode::kPermissionDenied;
  if (a->cfg->known_hosts_file.empty()) {
    a->failure = "SSH host key of " + shown +
                 " cannot be verified: set repo.known_hosts_file (e.g. from ssh-keyscan) to check it";
    return GIT_EUSER;
  }
  auto* hk = reinterpret_cast<git_cert_hostkey*>(cert);
  if ((hk->type & GIT_CERT_SSH_RAW) == 0 || hk->hostkey == nullptr) {
    a->failure = "SSH host key of " + shown + " was not presented in raw form; cannot check it";
    return GIT_EUSER;
  }
  auto text = ReadFile(a->cfg->known_hosts_file, 4 << 20);
  if (!text) {
    a->failure =
        "cannot read repo.known_hosts_file " + a->cfg->known_hosts_file + ": " + text.error().message;
    return GIT_EUSER;
  }
  switch (CheckHostKey(*text, name, a->ep.port, std::string_view(hk->hostkey, hk->hostkey_len))) {
    case HostKeyVerdict::kMatch: return 0;
    case HostKeyVerdict::kUnknown:
      a->failure = "SSH host " + shown + " is not in " + a->cfg->known_hosts_file + "; refusing to connect";
      return GIT_EUSER;
    case HostKeyVerdict::kMismatch:
      a->failure = "SSH host key of " + shown + " does not match " + a->cfg->known_hosts_file +
                   " (changed key or man in the middle); refusing to connect";
      return GIT_EUSER;
    case HostKeyVerdict::kRevoked:
      a->failure = "SSH host key of " + shown + " is marked @revoked in " + a->cfg->known_hosts_file;
      return GIT_EUSER;
  }
  return GIT_EUSER;
}

// A failure during a remote operation: our callback's reason if it refused, else libgit2's.
Error RemoteError(int rc, std::string_view what, const RemoteAuth& auth, const std::string& url) {
  if (rc == GIT_EUSER && !auth.failure.empty()) {
    git_error_clear();
    return Error{auth.failure_code, auth.failure, Mask(url, auth.cfg->token)};
  }
  return GitError(rc, what, ErrorCode::kUnavailable, Mask(url, auth.cfg->token), auth.cfg->token);
}

git_remote_callbacks Callbacks(RemoteAuth& auth) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = Credentials;
  cb.certificate_check = CertificateCheck;
  cb.payload = &auth;
  return cb;
}

// The remote as configured, once its URL has passed the transport check (the URL may come
// from the repository's own origin when repo.url is not set).
Expected<RemotePtr> CheckedOrigin(git_remote* raw, const config::Config::Repo& cfg) {
  RemotePtr remote(raw);
  const char* url = git_remote_url(remote.get());
  if (auto t = config::CheckRemoteTransport(url != nullptr ? url : "", cfg.allow_insecure); !t) {
    Error e = t.error();
    e.message = Mask(std::move(e.message), cfg.token);
    e.context = cfg.path;
    return std::unexpected(e);
  }
  return remote;
}

Expected<RemotePtr> OriginAsConfigured(git_repository* repo, const config::Config::Repo& cfg) {
  git_remote* raw = nullptr;
  int rc = git_remote_lookup(&raw, repo, "origin");
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    if (cfg.url.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the repository has no remote \"origin\" and repo.url is not set", cfg.path);
    }
    rc = git_remote_create(&raw, repo, "origin", cfg.url.c_str());
    if (rc < 0)
      return std::unexpected(GitError(rc, "cannot add remote origin", ErrorCode::kIo, cfg.path, cfg.token));
    return RemotePtr(raw);
  }
  if (rc < 0)
    return std::unexpected(GitError(rc, "cannot read remote origin", ErrorCode::kIo, cfg.path, cfg.token));
  RemotePtr remote(raw);
  const char* current = git_remote_url(remote.get());
  if (!cfg.url.empty() && (current == nullptr || cfg.url != current)) {
    // The configuration is the truth: follow a changed repo.url.
    rc = git_remote_set_url(repo, "origin", cfg.url.c_str());
    if (rc < 0)
      return std::unexpected(GitError(rc, "cannot set remote origin", ErrorCode::kIo, cfg.path, cfg.token));
    remote.reset();
    rc = git_remote_lookup(&raw, repo, "origin");
    if (rc < 0)
      return std::unexpected(GitError(rc, "cannot read remote origin", ErrorCode::kIo, cfg.path, cfg.token));
    remote.reset(raw);
  }
  return remote;
}

Expected<RemotePtr> Origin(git_repository* repo, const config::Config::Repo& cfg) {
  auto remote = OriginAsConfigured(repo, cfg);
  if (!remote) return remote;
  return CheckedOrigin(remote->release(), cfg);
}

std::string RemoteUrl(git_remote* remote) {
  const char* u = git_remote_url(remote);
  return u != nullptr ? u : "";
}

}  // namespace

Error GitError(int rc, std::string_view what, ErrorCode code, const std::string& context,
               const std::string& secret) {
  const git_error* e = git_error_last();
  std::string msg(what);
  msg += ": ";
  msg += (e != nullptr && e->message != nullptr) ? std::string(e->message)
                                                 : "libgit2 error " + std::to_string(rc);
  git_error_clear();
  return Error{code, Mask(std::move(msg), secret), context};
}

void InitLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
  });
}

Expected<EnvRepo> EnvRepo::Open(const config::Config::Repo& cfg) {
  InitLibgit2();
  if (cfg.path.empty()) return Fail(ErrorCode::kInvalidArgument, "repo.path is not set");
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, cfg.path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc == 0) return EnvRepo(cfg, RepoPtr(raw));
  std::error_code ec;
  bool has_git = fs::exists(fs::path(cfg.path) / ".git", ec);
  if (rc == GIT_ENOTFOUND && !has_git) {
    git_error_clear();
    if (cfg.url.empty()) {
      return Fail(ErrorCode::kNotFound, "no git repository here and repo.url is not set to clone one",
                  cfg.path);
    }
    fs::create_directories(cfg.path, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create the clone directory: " + ec.message(), cfg.path);
    // init + fetch + checkout rather than git_clone: works in a non-empty directory (a mounted
    // folder that already holds the git-ignored secrets/), and resumes after an interruption.
    rc = git_repository_init(&raw, cfg.path.c_str(), 0);
    if (rc < 0) return std::unexpected(GitError(rc, "cannot create repository", ErrorCode::kIo, cfg.path));
    log::Info("created repository for clone", {{"path", cfg.path}, {"url", Mask(cfg.url, cfg.token)}});
    return EnvRepo(cfg, RepoPtr(raw));
  }
  return std::unexpected(GitError(rc, "cannot open repository", ErrorCode::kIo, cfg.path, cfg.token));
}

Expected<std::string> EnvRepo::RemoteHead() {
  auto remote = Origin(repo_.get(), cfg_);
  if (!remote) return std::unexpected(remote.error());
  const std::string url = RemoteUrl(remote->get());
  RemoteAuth auth{&cfg_, ParseEndpoint(url), 0, {}, ErrorCode::kUnauthenticated};
  git_remote_callbacks cb = Callbacks(auth);
  int rc = git_remote_connect(remote->get(), GIT_DIRECTION_FETCH, &cb, nullptr, nullptr);
  if (rc < 0) return std::unexpected(RemoteError(rc, "cannot reach the remote", auth, url));
  ScopeExit disconnect([&] { git_remote_disconnect(remote->get()); });
  const git_remote_head** heads = nullptr;
  std::size_t count = 0;
  rc = git_remote_ls(&heads, &count, remote->get());
  if (rc < 0) return std::unexpected(RemoteError(rc, "cannot list the remote's refs", auth, url));
  const std::string want = "refs/heads/" + cfg_.branch;
  for (std::size_t i = 0; i < count; ++i) {
    if (want == heads[i]->name) return OidHex(&heads[i]->oid);
  }
  return Fail(ErrorCode::kNotFound, "branch \"" + cfg_.branch + "\" does not exist on the remote",
              Mask(url, cfg_.token));
}

Expected<void> EnvRepo::Fetch() {
  auto remote = Origin(repo_.get(), cfg_);
  if (!remote) return std::unexpected(remote.error());
  const std::string url = RemoteUrl(remote->get());
  RemoteAuth auth{&cfg_, ParseEndpoint(url), 0, {}, ErrorCode::kUnauthenticated};
  git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
  fo.callbacks = Callbacks(auth);
  fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  fo.update_fetchhead = 0;
  // Forced refspec: a force-pushed branch replaces ours.
  std::string spec = "+refs/heads/" + cfg_.branch + ":refs/remotes/origin/" + cfg_.branch;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  int rc = git_remote_fetch(remote->get(), &refspecs, &fo, "podcd: fetch");
  if (rc < 0) {
    // A broken local object store is not the remote's fault (and a re-clone repairs it). OS
    // errors stay "unavailable": libgit2 reports a refused connection with that class too,
    // and a flaky network must never cause a re-clone.
    const git_error* e = git_error_last();
    bool local = e != nullptr &&
                 (e->klass == GIT_ERROR_ODB || e->klass == GIT_ERROR_INDEXER || e->klass == GIT_ERROR_ZLIB ||
                  e->klass == GIT_ERROR_REFERENCE || e->klass == GIT_ERROR_REPOSITORY);
    Error err = RemoteError(rc, "fetch failed", auth, url);
    if (local && rc != GIT_EUSER) err.code = ErrorCode::kIo;
    return std::unexpected(err);
  }
  return {};
}

Expected<std::string> EnvRepo::TrackingCommit() {
  git_oid oid;
  const std::string name = "refs/remotes/origin/" + cfg_.branch;
  int rc = git_reference_name_to_id(&oid, repo_.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::string();
  }
  if (rc < 0) return std::unexpected(GitError(rc, "cannot read " + name, ErrorCode::kIo, cfg_.path));
  return OidHex(&oid);
}

Expected<std::string> EnvRepo::HeadCommit() {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo_.get(), "HEAD");
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
    git_error_clear();
    return std::string();
  }
  if (rc < 0) return std::unexpected(GitError(rc, "cannot read HEAD", ErrorCode::kIo, cfg_.path));
  return OidHex(&oid);
}

Expected<std::string> EnvRepo::ResetToRemote() {
  const std::string tracking_name = "refs/remotes/origin/" + cfg_.branch;
  const std::string branch_name = "refs/heads/" + cfg_.branch;
  git_reference* raw_ref = nullptr;
  int rc = git_reference_lookup(&raw_ref, repo_.get(), tracking_name.c_str());
  if (rc < 0) return std::unexpected(GitError(rc, "cannot find " + tracking_name, ErrorCode::kIo, cfg_.path));
  ReferencePtr tracking(raw_ref);
  git_object* raw_obj = nullptr;
  rc = git_reference_peel(&raw_obj, tracking.get(), GIT_OBJECT_COMMIT);
  if (rc < 0)
    return std::unexpected(GitError(rc, "cannot read the fetched commit", ErrorCode::kIo, cfg_.path));
  ObjectPtr commit(raw_obj);
  const git_oid* oid = git_object_id(commit.get());

  // Checked out while HEAD still names the previous commit: that baseline is how the
  // checkout tells tracked files (reset) from untracked and ignored ones (kept).
  if (auto c =
          CheckoutKeepingUntracked(repo_.get(), commit.get(), SecretsRelative(cfg_.path, cfg_.secrets_dir));
      !c) {
    Error e = c.error();
    if (e.context.empty()) e.context = cfg_.path;
    return std::unexpected(e);
  }
  rc = git_reference_create(&raw_ref, repo_.get(), branch_name.c_str(), oid, 1, "podcd: sync");
  if (rc < 0) return std::unexpected(GitError(rc, "cannot update " + branch_name, ErrorCode::kIo, cfg_.path));
  ReferencePtr branch(raw_ref);
  rc = git_repository_set_head(repo_.get(), branch_name.c_str());
  if (rc < 0)
    return std::unexpected(GitError(rc, "cannot point HEAD at " + branch_name, ErrorCode::kIo, cfg_.path));
  // The index as the commit has it (the work tree is not touched: a mixed reset).
  rc = git_reset(repo_.get(), commit.get(), GIT_RESET_MIXED, nullptr);
  if (rc < 0) return std::unexpected(GitError(rc, "cannot reset the index", ErrorCode::kIo, cfg_.path));
  return OidHex(oid);
}

Expected<SyncResult> EnvRepo::Sync() {
  SyncResult result;
  auto before = HeadCommit();
  if (!before) return std::unexpected(before.error());
  auto remote_head = RemoteHead();
  if (!remote_head) return std::unexpected(remote_head.error());
  auto tracking = TrackingCommit();
  if (!tracking) return std::unexpected(tracking.error());
  if (*tracking != *remote_head) {
    if (auto f = Fetch(); !f) return std::unexpected(f.error());
    result.fetched = true;
  }
  auto commit = ResetToRemote();
  if (!commit) return std::unexpected(commit.error());
  result.commit = *commit;
  result.changed = *commit != *before;
  return result;
}

int RemoveStaleLocks(const std::string& work_tree) {
  const fs::path git_dir = fs::path(work_tree) / ".git";
  std::error_code ec;
  if (!fs::is_directory(git_dir, ec)) return 0;
  int removed = 0;
  auto remove = [&](const fs::path& p) {
    std::error_code rm_ec;
    if (fs::remove(p, rm_ec)) {
      ++removed;
      log::Warn("removed a leftover of an interrupted git operation", {{"file", p.string()}});
    }
  };
  for (auto it = fs::recursive_directory_iterator(git_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    if (it->is_directory(ec) && p.filename() == "objects" && p.parent_path() == git_dir) {
      // Loose objects are thousands of files; only objects/pack needs a look.
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && p.extension() == ".lock") remove(p);
  }
  // An interrupted fetch leaves a temporary or half-written pack: a pack without its index
  // (libgit2 writes the .idx last), or an indexer temp file.
  const fs::path pack_dir = git_dir / "objects" / "pack";
  for (auto it = fs::directory_iterator(pack_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto& p = it->path();
    const std::string name = p.filename().string();
    if (!it->is_regular_file(ec)) continue;
    bool is_pack_file = name.starts_with("pack-");
    if (!is_pack_file) {
      remove(p);  // pack_git2_*, tmp_pack_*, tmp_idx_*
      continue;
    }
    if (p.extension() == ".pack") {
      fs::path idx = p;
      idx.replace_extension(".idx");
      if (!fs::exists(idx, ec)) remove(p);
    } else if (p.extension() == ".idx") {
      fs::path pack = p;
      pack.replace_extension(".pack");
      if (!fs::exists(pack, ec)) remove(p);
    }
  }
  return removed;
}

namespace {

// Moves a corrupt .git out of the way (into the state directory when possible, else deletes
// it), leaving the work tree and its ignored files where they are.
Expected<void> MoveGitDirAside(const std::string& work_tree, const std::string& state_dir) {
  const fs::path git_dir = fs::path(work_tree) / ".git";
  std::error_code ec;
  const fs::path aside = fs::path(state_dir) / "corrupt-git";
  fs::remove_all(aside, ec);
  ec.clear();
  fs::rename(git_dir, aside, ec);
  if (!ec) {
    log::Warn("moved a corrupt repository aside; cloning again",
              {{"path", work_tree}, {"moved_to", aside.string()}});
    return {};
  }
  ec.clear();
  fs::remove_all(git_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot remove the corrupt .git: " + ec.message(), work_tree);
  log::Warn("removed a corrupt repository; cloning again", {{"path", work_tree}});
  return {};
}

bool IsLocalFailure(const Error& e) { return e.code == ErrorCode::kIo || e.code == ErrorCode::kInternal; }

}  // namespace

Expected<SyncResult> SyncRepo(const config::Config::Repo& repo, const std::string& state_dir) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create the state directory: " + ec.message(), state_dir);
  const std::string lock_path = (fs::path(state_dir) / "repo-sync.flock").string();
  // Blocks while another sync runs; the parent's hard timeout bounds the wait.
  auto lock = FileLock::Acquire(lock_path);
  if (!lock) return std::unexpected(lock.error().WithContext("the sync lock"));
  // Holding the lock, no other podcd sync is running: any lock file left in .git belongs to
  // an interrupted one.
  RemoveStaleLocks(repo.path);

  auto attempt = [&]() -> Expected<SyncResult> {
    auto env_repo = EnvRepo::Open(repo);
    if (!env_repo) return std::unexpected(env_repo.error());
    return env_repo->Sync();
  };
  auto result = attempt();
  if (!result && IsLocalFailure(result.error()) && !repo.url.empty()) {
    log::Warn("local repository unusable; cloning again",
              {{"path", repo.path}, {"error", result.error().What()}});
    if (auto moved = MoveGitDirAside(repo.path, state_dir); !moved) return std::unexpected(moved.error());
    result = attempt();
  }
  return result;
}

}  // namespace podcd::git
