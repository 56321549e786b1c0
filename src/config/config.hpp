// Typed podcd configuration: one defaults table, a YAML file, then environment overrides.
// A Config is built once at start, validated, and shared read-only (shared_ptr<const Config>).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"
#include "util/log.hpp"

namespace podcd::config {

using Millis = std::chrono::milliseconds;

// Names of the policy rules a stack can be allowed to break (see core policy).
// The first eight are the rules of the deny-list policy, kept so that existing `policy.allow`
// maps keep their meaning; the rest came with the allow-list (docs/security.md).
inline constexpr std::string_view kPolicyRules[] = {
    "privileged",     "host_namespaces", "cap_sys_admin", "devices",         "podman_socket", "host_binds",
    "unconfined",     "host_root",       "capabilities",  "join_containers", "security_opt",  "host_binds_rw",
    "volume_drivers", "network_drivers", "sysctls",       "shared_volumes",  "host_hooks"};

// The target types of `notify:`, the event words of its `on:` (notify::What) and the forges
// that take commit statuses.
inline constexpr std::string_view kNotifyTypes[] = {"webhook", "ntfy",   "slack",
                                                    "discord", "gotify", "apprise"};
inline constexpr std::string_view kNotifyEvents[] = {"started",     "succeeded", "failed",
                                                     "rolled_back", "refused",   "recovered"};
inline constexpr std::string_view kForgeTypes[] = {"github", "gitea", "gitlab"};

struct Config {
  struct Listen {
    std::string host;
    std::uint16_t port = 0;
  } listen;
  // Addresses or networks of reverse proxies whose X-Forwarded-For names the real client.
  std::vector<std::string> trusted_proxies;
  struct Webhook {
    std::string secret;  // never logged: registered with the log mask at load
    std::int64_t max_body_bytes = 0;
    std::int64_t max_header_bytes = 0;
    std::int64_t auth_failures_per_minute = 0;
    Millis request_timeout{};
    std::int64_t delivery_ids = 0;
    std::int64_t max_connections = 0;
    std::int64_t max_connections_per_address = 0;
  } webhook;
  struct Repo {
    std::string path;  // work tree; defaults to <state_dir>/repo when url is set
    std::string url;
    std::string branch;
    std::string services_dir;
    std::string secrets_dir;
    std::string token;
    std::string ssh_key_file;
    std::string known_hosts_file;
    Millis sync_timeout{};
    // How often the daemon asks the remote for its branch's head (no fetch), to show whether
    // it is ahead of the work tree; 0: never.
    Millis remote_check_interval{};
    bool allow_insecure = false;  // http:// and git:// remotes (remote_url.hpp)
  } repo;
  struct Podman {
    std::string socket;
    std::string auth_file;
    Millis timeout{};
  } podman;
  struct Self {
    std::string stack;
  } self;
  std::string state_dir;
  struct Poll {
    Millis interval{};
    Millis jitter{};  // each wait is interval ± up to this (at most half the interval)
  } poll;
  // Bounds on every worker job (`podcd __run`, `__stacks`, `__close-handover` and the `__sync`
  // they start): a job past either fails with that reason; the daemon answers on.
  struct Worker {
    Millis timeout{};
    std::int64_t memory_max = 0;  // bytes of the job's data segment (RLIMIT_DATA); 0: none
  } worker;
  bool prune = false;
  struct Health {
    Millis timeout{};
    Millis settle{};
    std::int64_t healthy_count = 0;
  } health;
  struct Policy {
    std::vector<std::string> allowed_bind_roots;
    std::map<std::string, std::vector<std::string>> allow;  // stack -> rule names
    // OCI runtimes a service may name in `runtime`; empty: those the host's Podman knows
    // (reconcile::AllowedRuntimesOf, core::DecideAllowedRuntimes).
    std::vector<std::string> allowed_runtimes;
  } policy;
  struct Log {
    log::Format format = log::Format::kText;
    log::Level level = log::Level::kInfo;
  } log;
  struct Api {
    std::string token;
  } api;
  struct Http {
    std::string base_path;  // "" (the root) or "/prefix" without a trailing slash
    // How people reach the dashboard ("https://podcd.example.net/podcd"), for the links in
    // notices and commit statuses; "" leaves the links out.
    std::string public_url;
  } http;
  // POST /upload (docs/upload.md): the largest image archive accepted (413 above).
  struct Upload {
    std::int64_t max_bytes = std::int64_t{2} << 30;
  } upload;
  // Who hears of deployments (src/notify/): each target gets the notices it asks for.
  struct NotifyTarget {
    std::string type;  // webhook | ntfy | slack | discord | gotify | apprise
    std::string name;  // in logs and metrics: the target's `name:`, or "<type>-<index>"
    std::string url;   // may hold a token: never logged whole
    // webhook: the HMAC key (X-Podcd-Signature-256); ntfy, gotify, apprise: the access token.
    // From secret_file (or token_file); never logged: registered with the log mask at load.
    std::string secret;
    std::vector<std::string> on;      // event words; default: failed, rolled_back, recovered
    std::vector<std::string> stacks;  // empty: every stack
  };
  std::vector<NotifyTarget> notify;
  // Commit statuses in the forge that hosts the environment repository (src/notify/).
  struct Forge {
    std::string type;     // "" (none) | github | gitea | gitlab
    std::string api_url;  // https://api.github.com, https://gitea.example/api/v1, https://gitlab.com/api/v4
    std::string repository;  // owner/name; GitLab: the project's path or numeric id
    std::string token;       // from token_file; never logged
    std::string host;        // put in each status's context once set: podcd/<host>/<stack>
  } forge;
  struct Auth {
    std::string users_file;  // ROLE:username:hash lines (auth/users.hpp); empty: no users
  } auth;
  std::int64_t queue_limit = 0;
  std::int64_t parallel_stacks = 0;  // stacks of one deployment applied at once
  struct Images {
    // Images podcd brought for a service kept besides its current one, for a rollback.
    std::int64_t keep_previous = 1;
  } images;

  // Where the configuration came from ("/etc/podcd/podcd.yml", or "environment").
  std::string source;
  // The file's text as it was read (empty without a file): a worker process rebuilds this very
  // configuration from it (LoadOptions::text), whatever the file holds by then.
  std::string file_text;
};

// Looks up an environment variable; tests pass a map instead of getenv.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup ProcessEnv();

struct LoadOptions {
  std::string file;  // --config FILE; empty: PODCD_CONFIG, then the default path
  EnvLookup env = ProcessEnv();
  std::string default_file = "/etc/podcd/podcd.yml";
  // The file's text, read earlier (Config::file_text): used instead of reading `file`, which
  // still names it in errors.
  std::optional<std::string> text;
  // False for `check-config --repo`: checking a repository (in CI) serves no webhook.
  bool require_webhook_secret = true;
};

inline constexpr std::string_view kDefaultConfigFile = "/etc/podcd/podcd.yml";

// Loads and validates. On failure, every error found (not just the first), each naming
// its source (file:line:col or the environment variable) and the key path.
std::expected<Config, std::vector<Error>> Load(const LoadOptions& options);

// A reload (SIGHUP) changes everything except what only a restart can: the listener, the
// state directory, the repository's place, the Podman connection, the webhook limits, the
// queue. Sets those of `fresh` to the values of `running`; returns the names of the keys
// that differed (for a warning).
std::vector<std::string> KeepRestartOnly(Config& fresh, const Config& running);

// "" for "", "/" and "//"; "/podcd" for "podcd", "/podcd/" and "/podcd"; nullopt for a path
// with other characters than letters, digits, '-', '_', '.' and '/', or with a "." or ".." part.
std::optional<std::string> NormalBasePath(std::string_view path);

// One line for `podcd check-config` and the start-up log. Secrets are never shown.
std::string Summary(const Config& config);

// The defaults table, for docs and tests: key path, default text, environment variables.
struct KeyDoc {
  std::string key;
  std::string default_value;
  std::vector<std::string> env;
  std::string help;
  bool secret = false;
};
std::vector<KeyDoc> DescribeKeys();

}  // namespace podcd::config
