#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/notify_config_internal.hpp"
#include "config/remote_url.hpp"
#include "util/ip.hpp"
#include "util/strings.hpp"
#include "util/yaml.hpp"

namespace podcd::config {
namespace {

namespace fs = std::filesystem;

enum class Kind { kString, kSecret, kInt, kBool, kDuration, kList, kStackRules };

// Sets a value from text; returns an error text ("expected ..., got ...") or nullopt.
using ScalarSetter = std::function<std::optional<std::string>(Config&, std::string_view)>;
using ListSetter = std::function<std::optional<std::string>(Config&, const std::vector<std::string>&)>;
using RulesSetter = std::function<std::optional<std::string>(
    Config&, const std::map<std::string, std::vector<std::string>>&)>;

struct KeySpec {
  std::string_view key;  // dotted path in the YAML file
  Kind kind;
  std::string_view default_value;
  std::vector<std::string_view> env;  // in priority order; secrets also accept NAME_FILE
  std::string_view help;
  ScalarSetter set;
  ListSetter set_list;
  RulesSetter set_rules;
};

std::string Quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

// A mapping key as the key path spells it. A key that is no scalar (a "? " complex key, a null)
// cannot name a setting: it becomes an unknown key, not a yaml-cpp exception.
std::string KeyName(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : std::string("?"); }

KeySpec Str(std::string_view key, std::string_view def, std::vector<std::string_view> env,
            std::string_view help, const std::function<std::string&(Config&)>& field) {
  return {key,
          Kind::kString,
          def,
          std::move(env),
          help,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            field(c) = std::string(v);
            return std::nullopt;
          },
          {},
          {}};
}

KeySpec Secret(std::string_view key, std::vector<std::string_view> env, std::string_view help,
               const std::function<std::string&(Config&)>& field) {
  KeySpec s = Str(key, "", std::move(env), help, field);
  s.kind = Kind::kSecret;
  return s;
}

KeySpec Int(std::string_view key, std::string_view def, std::vector<std::string_view> env,
            std::string_view help, std::int64_t min, std::int64_t max,
            const std::function<std::int64_t&(Config&)>& field) {
  return {key,
          Kind::kInt,
          def,
          std::move(env),
          help,
          [=](Config& c, std::string_view v) -> std::optional<std::string> {
            auto n = ParseInt(Trim(v));
            if (!n || *n < min || *n > max) {
              std::string want = min > 0 ? "a positive integer" : "an integer";
              if (n) want += " between " + std::to_string(min) + " and " + std::to_string(max);
              return "expected " + want + ", got " + Quoted(v);
            }
            field(c) = *n;
            return std::nullopt;
          },
          {},
          {}};
}

KeySpec Dur(std::string_view key, std::string_view def, std::vector<std::string_view> env,
            std::string_view help, const std::function<Millis&(Config&)>& field) {
  return {key,
          Kind::kDuration,
          def,
          std::move(env),
          help,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            auto d = ParseDuration(v);
            if (!d) return "expected a duration such as 30s, 5m or 1h30m (0 for off), got " + Quoted(v);
            field(c) = *d;
            return std::nullopt;
          },
          {},
          {}};
}

// A byte size: a number with an optional binary suffix (K, M, G, T; KiB, MiB, GiB and TiB too).
std::optional<std::int64_t> ParseSize(std::string_view v) {
  v = Trim(v);
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  auto n = ParseInt(v.substr(0, digits));
  if (!n) return std::nullopt;
  std::string unit(v.substr(digits));
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (unit.ends_with("ib")) unit.resize(unit.size() - 2);
  if (unit.ends_with("b")) unit.pop_back();
  constexpr std::pair<std::string_view, int> kShifts[] = {
      {"", 0}, {"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}};
  const auto* found =
      std::find_if(std::begin(kShifts), std::end(kShifts), [&](auto u) { return u.first == unit; });
  if (found == std::end(kShifts) || *n > (std::int64_t{1} << (62 - found->second))) return std::nullopt;
  return *n << found->second;
}

KeySpec Size(std::string_view key, std::string_view def, std::vector<std::string_view> env,
             std::string_view help, const std::function<std::int64_t&(Config&)>& field) {
  return {key,
          Kind::kInt,
          def,
          std::move(env),
          help,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            auto n = ParseSize(v);
            if (!n) return "expected a size such as 512MiB or 2GiB (0 for none), got " + Quoted(v);
            field(c) = *n;
            return std::nullopt;
          },
          {},
          {}};
}

KeySpec Bool(std::string_view key, std::string_view def, std::vector<std::string_view> env,
             std::string_view help, const std::function<bool&(Config&)>& field) {
  return {key,
          Kind::kBool,
          def,
          std::move(env),
          help,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            if (!ParseBool(Trim(v), field(c))) return "expected true or false, got " + Quoted(v);
            return std::nullopt;
          },
          {},
          {}};
}

std::vector<std::string> SplitList(std::string_view v, char sep) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto pos = v.find(sep);
    auto item = Trim(v.substr(0, pos));
    if (!item.empty()) out.emplace_back(item);
    if (pos == std::string_view::npos) break;
    v.remove_prefix(pos + 1);
  }
  return out;
}

std::optional<std::string> SetListen(Config& c, std::string_view v) {
  auto bad = [&] { return "expected host:port (e.g. 0.0.0.0:8080 or [::1]:8080), got " + Quoted(v); };
  auto colon = v.rfind(':');
  if (colon == std::string_view::npos) return bad();
  std::string_view host = v.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = ParseInt(v.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return bad();
  c.listen.host = host.empty() ? "0.0.0.0" : std::string(host);
  c.listen.port = static_cast<std::uint16_t>(*port);
  return std::nullopt;
}

std::optional<std::string> SetSocket(Config& c, std::string_view v) {
  // Accepts a path or CONTAINER_HOST's form unix:///path.
  if (v.starts_with("unix://"))
    v.remove_prefix(7);
  else if (v.find("://") != std::string_view::npos) {
    return "only unix:// sockets are supported, got " + Quoted(v);
  }
  if (v.empty() || v.front() != '/') return "expected an absolute socket path, got " + Quoted(v);
  c.podman.socket = std::string(v);
  return std::nullopt;
}

std::optional<std::string> CheckRules(const std::map<std::string, std::vector<std::string>>& m) {
  for (const auto& [stack, rules] : m) {
    if (!IsValidStackName(stack)) return "invalid stack name " + Quoted(stack);
    for (const auto& r : rules) {
      if (std::find(std::begin(kPolicyRules), std::end(kPolicyRules), r) == std::end(kPolicyRules)) {
        std::string known;
        for (auto k : kPolicyRules) known += (known.empty() ? "" : ", ") + std::string(k);
        return "unknown policy rule " + Quoted(r) + " for stack " + Quoted(stack) + " (known: " + known + ")";
      }
    }
  }
  return std::nullopt;
}

// The defaults table: every key, its default, its environment variables, what it is for.
// NOLINTNEXTLINE(readability-function-size): the defaults table, one entry per key (declarative)
const std::vector<KeySpec>& Table() {
  static const std::vector<KeySpec> table = {
      {"listen",
       Kind::kString,
       "0.0.0.0:8080",
       {"PODCD_LISTEN"},
       "address and port of the HTTP server",
       SetListen,
       {},
       {}},
      {"trusted_proxies",
       Kind::kList,
       "",
       {"PODCD_TRUSTED_PROXIES"},
       "reverse proxies (addresses or networks, e.g. 127.0.0.1 or 10.0.0.0/8) whose "
       "X-Forwarded-For names the client; comma-separated in the environment",
       {},
       [](Config& c, const std::vector<std::string>& v) -> std::optional<std::string> {
         for (const auto& p : v) {
           if (!ip::ParseNetwork(Trim(p)))
             return "expected IP addresses or networks (10.0.0.0/8), got " + Quoted(p);
         }
         c.trusted_proxies.clear();
         for (const auto& p : v) c.trusted_proxies.emplace_back(Trim(p));
         return std::nullopt;
       },
       {}},
      Secret("webhook.secret", {"PODCD_WEBHOOK_SECRET", "WEBHOOK_SECRET"},
             "HMAC secret shared with the git host (at least 16 bytes; required)",
             [](Config& c) -> std::string& { return c.webhook.secret; }),
      Int("webhook.max_body_bytes", "1048576", {"PODCD_WEBHOOK_MAX_BODY_BYTES"},
          "largest request body accepted (413 above)", 1, std::int64_t{1} << 30,
          [](Config& c) -> std::int64_t& { return c.webhook.max_body_bytes; }),
      Int("webhook.max_header_bytes", "16384", {"PODCD_WEBHOOK_MAX_HEADER_BYTES"},
          "largest request header block accepted", 1024, std::int64_t{1} << 20,
          [](Config& c) -> std::int64_t& { return c.webhook.max_header_bytes; }),
      Int("webhook.auth_failures_per_minute", "10", {"PODCD_WEBHOOK_AUTH_FAILURES_PER_MINUTE"},
          "failed authentications allowed per client address per minute; later failures get 429 (a correct "
          "signature never does)",
          1, 1'000'000, [](Config& c) -> std::int64_t& { return c.webhook.auth_failures_per_minute; }),
      Dur("webhook.request_timeout", "10s", {"PODCD_WEBHOOK_REQUEST_TIMEOUT"},
          "a client slower than this to send its request is disconnected",
          [](Config& c) -> Millis& { return c.webhook.request_timeout; }),
      Int("webhook.delivery_ids", "10000", {"PODCD_WEBHOOK_DELIVERY_IDS"},
          "how many X-GitHub-Delivery ids are remembered (24 h at most) to answer duplicates", 1, 10'000'000,
          [](Config& c) -> std::int64_t& { return c.webhook.delivery_ids; }),
      Int("webhook.max_connections", "1024", {"PODCD_WEBHOOK_MAX_CONNECTIONS"},
          "open connections at most; more are closed as they arrive", 1, 1'000'000,
          [](Config& c) -> std::int64_t& { return c.webhook.max_connections; }),
      Int("webhook.max_connections_per_address", "64", {"PODCD_WEBHOOK_MAX_CONNECTIONS_PER_ADDRESS"},
          "open connections at most from one client address (IPv6: one /64; trusted proxies: no limit)", 1,
          1'000'000, [](Config& c) -> std::int64_t& { return c.webhook.max_connections_per_address; }),
      Str("repo.path", "", {"PODCD_REPO_PATH"},
          "work tree of the environment repository (default <state_dir>/repo when repo.url is set)",
          [](Config& c) -> std::string& { return c.repo.path; }),
      Str("repo.url", "", {"PODCD_REPO_URL"}, "repository to clone when repo.path holds none",
          [](Config& c) -> std::string& { return c.repo.url; }),
      Str("repo.branch", "main", {"PODCD_REPO_BRANCH"}, "branch that declares the host",
          [](Config& c) -> std::string& { return c.repo.branch; }),
      Str("repo.services_dir", "services",
          {"PODCD_SERVICES_DIR", "PODCD_REPO_SERVICES_DIR", "GITOPS_SERVICES_DIRECTORY"},
          "directory of the repository holding one folder per stack",
          [](Config& c) -> std::string& { return c.repo.services_dir; }),
      Str("repo.secrets_dir", "secrets", {"PODCD_SECRETS_DIR", "PODCD_REPO_SECRETS_DIR"},
          "git-ignored directory (relative to the repo, or absolute) that env_file may reference",
          [](Config& c) -> std::string& { return c.repo.secrets_dir; }),
      Secret("repo.token", {"PODCD_REPO_TOKEN"}, "HTTPS token for the remote",
             [](Config& c) -> std::string& { return c.repo.token; }),
      Str("repo.ssh_key_file", "", {"PODCD_REPO_SSH_KEY_FILE"}, "SSH private key (ed25519 or ECDSA)",
          [](Config& c) -> std::string& { return c.repo.ssh_key_file; }),
      Str("repo.known_hosts_file", "", {"PODCD_REPO_KNOWN_HOSTS_FILE"},
          "known_hosts file the SSH host key is checked against",
          [](Config& c) -> std::string& { return c.repo.known_hosts_file; }),
      Bool("repo.allow_insecure", "false", {"PODCD_REPO_ALLOW_INSECURE"},
           "accept http:// and git:// remotes (unencrypted, unauthenticated)",
           [](Config& c) -> bool& { return c.repo.allow_insecure; }),
      Dur("repo.sync_timeout", "2m", {"PODCD_REPO_SYNC_TIMEOUT"}, "hard limit on one fetch and reset",
          [](Config& c) -> Millis& { return c.repo.sync_timeout; }),
      Dur("repo.remote_check_interval", "2m", {"PODCD_REPO_REMOTE_CHECK_INTERVAL"},
          "how often the daemon asks the remote whether it is ahead (ls-remote, no fetch); 0s: never",
          [](Config& c) -> Millis& { return c.repo.remote_check_interval; }),
      {"podman.socket",
       Kind::kString,
       "/run/podman/podman.sock",
       {"PODCD_PODMAN_SOCKET", "CONTAINER_HOST"},
       "Podman API socket (a path, or unix:///path)",
       SetSocket,
       {},
       {}},
      Str("podman.auth_file", "", {"PODCD_PODMAN_AUTH_FILE", "REGISTRY_AUTH_FILE"},
          "containers-auth.json with registry credentials for pulls",
          [](Config& c) -> std::string& { return c.podman.auth_file; }),
      Dur("podman.timeout", "5m", {"PODCD_PODMAN_TIMEOUT"}, "limit on one Podman API call (pulls included)",
          [](Config& c) -> Millis& { return c.podman.timeout; }),
      Str("self.stack", "", {"PODCD_SELF_STACK", "DEPLOY_SERVER_NAME"},
          "the stack that runs podcd itself (deployed last, through a hand-over)",
          [](Config& c) -> std::string& { return c.self.stack; }),
      Str("state_dir", "/var/lib/podcd", {"PODCD_STATE_DIR"},
          "deployment history, delivery ids, the lock, and the clone",
          [](Config& c) -> std::string& { return c.state_dir; }),
      Dur("poll.interval", "5m", {"PODCD_POLL_INTERVAL"},
          "reconcile on a timer as well, which repairs drift without a push (0: off)",
          [](Config& c) -> Millis& { return c.poll.interval; }),
      Dur("poll.jitter", "30s", {"PODCD_POLL_JITTER"},
          "each poll tick comes up to this much earlier or later (at most half the interval)",
          [](Config& c) -> Millis& { return c.poll.jitter; }),
      Dur("worker.timeout", "1h", {"PODCD_WORKER_TIMEOUT"},
          "wall-clock limit on one worker job (a deployment, GET /stacks' observation)",
          [](Config& c) -> Millis& { return c.worker.timeout; }),
      Size("worker.memory_max", "2GiB", {"PODCD_WORKER_MEMORY_MAX"},
           "memory limit of one worker job (its data segment; 0: none)",
           [](Config& c) -> std::int64_t& { return c.worker.memory_max; }),
      Bool("prune", "false", {"PODCD_PRUNE"}, "remove the containers of stacks deleted from the repo",
           [](Config& c) -> bool& { return c.prune; }),
      Dur("health.timeout", "2m", {"PODCD_HEALTH_TIMEOUT"},
          "how long a new container may take to turn healthy",
          [](Config& c) -> Millis& { return c.health.timeout; }),
      Dur("health.settle", "5s", {"PODCD_HEALTH_SETTLE"},
          "how long a container without a healthcheck must stay running",
          [](Config& c) -> Millis& { return c.health.settle; }),
      Int("health.healthy_count", "1", {"PODCD_HEALTH_HEALTHY_COUNT"},
          "consecutive healthy checks that pass the gate", 1, 100,
          [](Config& c) -> std::int64_t& { return c.health.healthy_count; }),
      {"policy.allowed_bind_roots",
       Kind::kList,
       "/etc/localtime,/etc/timezone",
       {"PODCD_POLICY_ALLOWED_BIND_ROOTS"},
       "host paths outside the repo that stacks may bind-mount read-only (read-write with the rule "
       "host_binds_rw; comma-separated in the environment)",
       {},
       [](Config& c, const std::vector<std::string>& v) -> std::optional<std::string> {
         for (const auto& p : v) {
           if (p.empty() || p.front() != '/') return "expected absolute paths, got " + Quoted(p);
         }
         c.policy.allowed_bind_roots = v;
         return std::nullopt;
       },
       {}},
      {"policy.allowed_runtimes",
       Kind::kList,
       "",
       {"PODCD_POLICY_ALLOWED_RUNTIMES"},
       "OCI runtimes a service's `runtime` may name; unset: those the host's Podman knows (its "
       "containers.conf), asked when a service names one (offline check-config: runc, crun, "
       "crun-wasm, kata, runsc, youki, krun)",
       {},
       [](Config& c, const std::vector<std::string>& v) -> std::optional<std::string> {
         for (const auto& r : v) {
           if (r.empty() || r.find_first_of(" /\\\t") != std::string::npos)
             return "expected runtime names, got " + Quoted(r);
         }
         c.policy.allowed_runtimes = v;
         return std::nullopt;
       },
       {}},
      {"policy.allow",
       Kind::kStackRules,
       "",
       {"PODCD_POLICY_ALLOW"},
       "per-stack exceptions, e.g. {podcd: [podman_socket]} (environment: "
       "podcd:podman_socket;web:privileged)",
       {},
       {},
       [](Config& c, const std::map<std::string, std::vector<std::string>>& m) -> std::optional<std::string> {
         if (auto err = CheckRules(m)) return err;
         c.policy.allow = m;
         return std::nullopt;
       }},
      {"log.format",
       Kind::kString,
       "text",
       {"PODCD_LOG_FORMAT"},
       "text or json",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!log::ParseFormat(Trim(v), c.log.format)) return "expected text or json, got " + Quoted(v);
         return std::nullopt;
       },
       {},
       {}},
      {"log.level",
       Kind::kString,
       "info",
       {"PODCD_LOG_LEVEL"},
       "debug, info, warn or error",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!log::ParseLevel(Trim(v), c.log.level))
           return "expected debug, info, warn or error, got " + Quoted(v);
         return std::nullopt;
       },
       {},
       {}},
      Secret("api.token", {"PODCD_API_TOKEN"},
             "bearer token for the read and admin API (unset: loopback clients only)",
             [](Config& c) -> std::string& { return c.api.token; }),
      Str("auth.users_file", "", {"PODCD_USERS_FILE", "AUTH_DB"},
          "users who may log in, one ROLE:username:hash a line (docs/users.md); unset: no users",
          [](Config& c) -> std::string& { return c.auth.users_file; }),
      Str("http.base_path", "/", {"PODCD_HTTP_BASE_PATH", "API_ROOT"},
          "the path prefix podcd is served under behind a reverse proxy (\"/podcd\"): every route and "
          "every dashboard link lives under it",
          [](Config& c) -> std::string& { return c.http.base_path; }),
      Int("upload.max_bytes", "2147483648", {"PODCD_UPLOAD_MAX_BYTES"},
          "largest image archive POST /upload accepts (413 above); it is streamed to the state directory", 1,
          std::int64_t{1} << 40, [](Config& c) -> std::int64_t& { return c.upload.max_bytes; }),
      Str("http.public_url", "", {"PODCD_HTTP_PUBLIC_URL"},
          "how people reach the dashboard (\"https://podcd.example.net/podcd\"): the link in notices and "
          "commit statuses (unset: none)",
          [](Config& c) -> std::string& { return c.http.public_url; }),
      Str("forge.type", "", {"PODCD_FORGE_TYPE"},
          "the forge that gets a commit status per stack and deployment: github, gitea (Forgejo too) or "
          "gitlab "
          "(unset: none; docs/notifications.md)",
          [](Config& c) -> std::string& { return c.forge.type; }),
      Str("forge.api_url", "", {"PODCD_FORGE_API_URL"},
          "the forge's API (default: https://api.github.com, https://gitlab.com/api/v4; gitea: required, "
          "https://gitea.example/api/v1)",
          [](Config& c) -> std::string& { return c.forge.api_url; }),
      Str("forge.repository", "", {"PODCD_FORGE_REPOSITORY"},
          "the environment repository in the forge: owner/name (GitLab: the project's path or id)",
          [](Config& c) -> std::string& { return c.forge.repository; }),
      Secret("forge.token", {"PODCD_FORGE_TOKEN"}, "the forge's API token, allowed to set commit statuses",
             [](Config& c) -> std::string& { return c.forge.token; }),
      Str("forge.host", "", {"PODCD_FORGE_HOST"},
          "this host's name in each status's context (podcd/<host>/<stack>), once several podcd share a "
          "repository",
          [](Config& c) -> std::string& { return c.forge.host; }),
      Int("parallel_stacks", "4", {"PODCD_PARALLEL_STACKS"},
          "stacks of one deployment applied at once (1: one after another; podcd's own stack is always last)",
          1, 64, [](Config& c) -> std::int64_t& { return c.parallel_stacks; }),
      Int("images.keep_previous", "1", {"PODCD_IMAGES_KEEP_PREVIOUS"},
          "images podcd brought for a service kept besides its current one after a successful deployment "
          "(0: only the current one; docs/operations.md)",
          0, 1000, [](Config& c) -> std::int64_t& { return c.images.keep_previous; }),
      Int("queue_limit", "64", {"PODCD_QUEUE_LIMIT"}, "queued deployments before triggers get 503", 1, 100000,
          [](Config& c) -> std::int64_t& { return c.queue_limit; }),
  };
  return table;
}

const KeySpec* Find(std::string_view key) {
  for (const auto& s : Table()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

bool IsSection(std::string_view prefix) {
  for (const auto& s : Table()) {
    if (s.key.size() > prefix.size() && s.key.starts_with(prefix) && s.key[prefix.size()] == '.') return true;
  }
  return false;
}

struct Loader {
  Config cfg;
  std::vector<Error> errors;
  // `*_file` keys from the YAML file, read only if the environment does not override them.
  struct PendingSecretFile {
    const KeySpec* spec;
    std::string path;
    std::string where;
  };
  std::vector<PendingSecretFile> pending_files;

  void Add(std::string where, std::string_view key, const std::string& msg) {
    errors.push_back(Error{ErrorCode::kInvalidArgument, std::string(key) + ": " + msg, std::move(where)});
  }

  void ApplyScalar(const KeySpec& s, std::string_view v, const std::string& where) {
    if (s.kind == Kind::kList) {
      if (auto err = s.set_list(cfg, SplitList(v, ','))) Add(where, s.key, *err);
      return;
    }
    if (s.kind == Kind::kStackRules) {
      // stack:rule,rule;stack2:rule
      std::map<std::string, std::vector<std::string>> m;
      for (const auto& entry : SplitList(v, ';')) {
        auto colon = entry.find(':');
        if (colon == std::string::npos) {
          Add(where, s.key, "expected stack:rule[,rule], got " + Quoted(entry));
          return;
        }
        auto& rules = m[std::string(Trim(std::string_view(entry).substr(0, colon)))];
        for (auto& r : SplitList(std::string_view(entry).substr(colon + 1), ',')) rules.push_back(r);
      }
      if (auto err = s.set_rules(cfg, m)) Add(where, s.key, *err);
      return;
    }
    if (auto err = s.set(cfg, v)) Add(where, s.key, *err);
  }

  void ApplyDefaults() {
    for (const auto& s : Table()) {
      if (!s.default_value.empty() || s.kind == Kind::kString) ApplyScalar(s, s.default_value, "default");
    }
  }

  // Reads a *_file value: the file's contents with one trailing newline removed.
  std::optional<std::string> ReadSecretFile(const std::string& path, const std::string& where,
                                            std::string_view key) {
    auto text = ReadFile(path, std::uintmax_t{64} * 1024);
    if (!text) {
      Add(where, key, "cannot read secret file " + Quoted(path) + ": " + text.error().message);
      return std::nullopt;
    }
    std::string v = std::move(*text);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }

  // Errors point at the key (file:line:col of `key`), as users look for the key.
  void ApplyNode(const YAML::Node& key, const YAML::Node& node, const std::string& path,
                 const std::string& file) {
    const std::string where = yaml::Where(file, key);
    if (path == "notify") {
      cfg.notify =
          ReadNotify(node, file, [this](std::string at, const std::string& k, const std::string& message) {
            Add(std::move(at), k, message);
          });
      return;
    }
    const KeySpec* spec = Find(path);
    bool from_file = false;
    if (!spec && path.ends_with("_file")) {
      spec = Find(std::string_view(path).substr(0, path.size() - 5));
      if (spec && spec->kind != Kind::kSecret) spec = nullptr;
      from_file = spec != nullptr;
    }
    if (!spec) {
      if (IsSection(path)) {
        if (!node.IsMap()) {
          Add(where, path, "expected a mapping, got " + std::string(yaml::Describe(node)));
          return;
        }
        for (auto it = node.begin(); it != node.end(); ++it) {
          ApplyNode(it->first, it->second, path + "." + KeyName(it->first), file);
        }
        return;
      }
      Add(where, path, "unknown key");
      return;
    }
    if (spec->kind == Kind::kList) {
      if (!node.IsSequence()) {
        Add(where, path, "expected a sequence, got " + std::string(yaml::Describe(node)));
        return;
      }
      std::vector<std::string> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          Add(yaml::Where(file, item), path, "expected a string, got " + std::string(yaml::Describe(item)));
          return;
        }
        items.push_back(item.Scalar());
      }
      if (auto err = spec->set_list(cfg, items)) Add(where, path, *err);
      return;
    }
    if (spec->kind == Kind::kStackRules) {
      if (!node.IsMap()) {
        Add(where, path, "expected a mapping of stack: [rules], got " + std::string(yaml::Describe(node)));
        return;
      }
      std::map<std::string, std::vector<std::string>> m;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->second.IsSequence()) {
          Add(yaml::Where(file, it->second), path + "." + it->first.Scalar(),
              "expected a sequence of rule names, got " + std::string(yaml::Describe(it->second)));
          return;
        }
        auto& rules = m[it->first.Scalar()];
        // A named copy: the iterator's pair is a temporary, and a range-for over its member
        // would outlive it (ASan: stack-use-after-scope).
        const YAML::Node list = it->second;
        for (const auto& r : list) rules.push_back(r.IsScalar() ? r.Scalar() : std::string("?"));
      }
      if (auto err = spec->set_rules(cfg, m)) Add(where, path, *err);
      return;
    }
    if (!node.IsScalar()) {
      Add(where, path, "expected a single value, got " + std::string(yaml::Describe(node)));
      return;
    }
    if (from_file) {
      pending_files.push_back({spec, node.Scalar(), where});
      return;
    }
    ApplyScalar(*spec, node.Scalar(), where);
  }

  // `given`: the file's text as read before (a worker process rebuilding the daemon's config).
  void ApplyFile(const std::string& file, const std::string& display,
                 const std::optional<std::string>& given) {
    auto text = given ? Expected<std::string>(*given) : ReadFile(file, 1 << 20);
    if (!text) {
      errors.push_back(text.error());
      return;
    }
    cfg.file_text = *text;
    auto root = yaml::Parse(*text, display);
    if (!root) {
      errors.push_back(root.error());
      return;
    }
    if (root->IsNull()) return;  // an empty file is fine
    if (!root->IsMap()) {
      Add(yaml::Where(display, *root), "(top level)",
          "expected a mapping at the top level, got " + std::string(yaml::Describe(*root)));
      return;
    }
    for (auto it = root->begin(); it != root->end(); ++it) {
      ApplyNode(it->first, it->second, KeyName(it->first), display);
    }
  }

  void ReadPendingSecretFiles() {
    for (const auto& p : pending_files) {
      if (auto v = ReadSecretFile(p.path, p.where, std::string(p.spec->key) + "_file")) {
        ApplyScalar(*p.spec, *v, p.where);
      }
    }
    pending_files.clear();
  }

  void ApplyEnv(const EnvLookup& env) {
    for (const auto& s : Table()) {
      // The first variable set wins (PODCD_* names come first in the table).
      for (auto name : s.env) {
        std::string n(name);
        auto direct = env(n);
        std::optional<std::string> via_file;
        if (s.kind == Kind::kSecret) via_file = env(n + "_FILE");
        if (direct || via_file) {
          std::erase_if(pending_files, [&](const PendingSecretFile& p) { return p.spec == &s; });
        }
        if (direct && via_file) {
          Add("environment", s.key,
              "both " + n + " and " + n +
                  "_FILE are set; give one");  // NOLINT(performance-inefficient-string-concatenation):
                                               // an error path
          break;
        }
        if (via_file) {
          if (auto v = ReadSecretFile(*via_file, "environment " + n + "_FILE", s.key)) {
            ApplyScalar(s, *v, "environment " + n + "_FILE");
          }
          break;
        }
        if (direct) {
          ApplyScalar(s, *direct, "environment " + n);
          break;
        }
      }
    }
  }

  void ValidateForge() {
    auto bad = [&](std::string_view key, const std::string& msg) { Add("config", key, msg); };
    const auto& f = cfg.forge;
    if (f.type.empty()) return;
    if (std::find(std::begin(kForgeTypes), std::end(kForgeTypes), f.type) == std::end(kForgeTypes)) {
      bad("forge.type", Quoted(f.type) + " is not a forge; one of github, gitea, gitlab");
      return;
    }
    // GitHub and GitLab have a default (formats.hpp); a Gitea or Forgejo is always one's own.
    if (f.api_url.empty()) {
      if (f.type == "gitea") bad("forge.api_url", "is required for gitea (https://gitea.example/api/v1)");
    } else if (auto err = CheckNotifyUrl(f.api_url, false)) {
      bad("forge.api_url", *err);
    }
    const auto slash = f.repository.find('/');
    if (f.repository.empty()) {
      bad("forge.repository", "is required with forge.type (owner/name; GitLab: the project's path or id)");
    } else if (f.type != "gitlab" &&
               (slash == std::string::npos || slash == 0 || slash + 1 == f.repository.size() ||
                f.repository.find('/', slash + 1) != std::string::npos)) {
      bad("forge.repository", "expected owner/name, got " + Quoted(f.repository));
    }
    if (f.token.empty())
      bad("forge.token", "is required with forge.type (forge.token_file or PODCD_FORGE_TOKEN_FILE)");
    if (!f.host.empty() && !IsValidStackName(f.host))
      bad("forge.host", "expected a short name (a-z, 0-9, '.', '_', '-'), got " + Quoted(f.host));
  }

  void Validate(bool require_webhook_secret) {
    auto bad = [&](std::string_view key, const std::string& msg) { Add("config", key, msg); };
    if (cfg.webhook.secret.empty() && !require_webhook_secret) {
      // Nothing to check: no webhook is served.
    } else if (cfg.webhook.secret.empty()) {
      bad("webhook.secret", "is required (set WEBHOOK_SECRET, WEBHOOK_SECRET_FILE or webhook.secret_file)");
    } else if (cfg.webhook.secret.size() < 16) {
      bad("webhook.secret", "must be at least 16 bytes, got " + std::to_string(cfg.webhook.secret.size()));
    }
    if (!cfg.api.token.empty() && cfg.api.token.size() < 16) {
      bad("api.token", "must be at least 16 bytes, got " + std::to_string(cfg.api.token.size()));
    }
    if (auto base = NormalBasePath(cfg.http.base_path)) {
      cfg.http.base_path = *base;
    } else {
      bad("http.base_path", "must be a path such as /podcd (letters, digits, '-', '_', '.', '/'), got " +
                                Quoted(cfg.http.base_path.substr(0, 80)));
    }
    if (cfg.repo.path.empty() && cfg.repo.url.empty()) {
      bad("repo.path", "set repo.path (PODCD_REPO_PATH) or repo.url (PODCD_REPO_URL)");
    }
    if (auto t = CheckRemoteTransport(cfg.repo.url, cfg.repo.allow_insecure); !t)
      bad("repo.url", t.error().message);
    if (cfg.repo.path.empty() && !cfg.repo.url.empty()) {
      cfg.repo.path = (fs::path(cfg.state_dir) / "repo").string();
    }
    if (cfg.repo.branch.empty() || cfg.repo.branch.find("..") != std::string::npos ||
        cfg.repo.branch.find(' ') != std::string::npos) {
      bad("repo.branch", "is not a valid branch name: " + Quoted(cfg.repo.branch));
    }
    fs::path sd(cfg.repo.services_dir);
    if (cfg.repo.services_dir.empty() || sd.is_absolute() ||
        std::any_of(sd.begin(), sd.end(), [](const fs::path& p) { return p == ".."; })) {
      bad("repo.services_dir",
          "must be a relative path inside the repo, got " + Quoted(cfg.repo.services_dir));
    }
    if (!cfg.self.stack.empty() && !IsValidStackName(cfg.self.stack)) {
      bad("self.stack", "is not a valid stack name: " + Quoted(cfg.self.stack));
    }
    if (cfg.state_dir.empty() || cfg.state_dir.front() != '/') {
      bad("state_dir", "must be an absolute path, got " + Quoted(cfg.state_dir));
    }
    // Each is a bound on a wait; libcurl and the sync child read 0 as no bound at all.
    for (auto [key, limit] : {std::pair<std::string_view, Millis>{"podman.timeout", cfg.podman.timeout},
                              {"repo.sync_timeout", cfg.repo.sync_timeout},
                              {"webhook.request_timeout", cfg.webhook.request_timeout},
                              {"health.timeout", cfg.health.timeout},
                              {"worker.timeout", cfg.worker.timeout}}) {
      if (limit.count() <= 0) bad(key, "must be more than 0: it is a limit");
    }
    if (cfg.repo.remote_check_interval.count() > 0 &&
        cfg.repo.remote_check_interval < std::chrono::seconds(10)) {
      bad("repo.remote_check_interval", "must be 0s (off) or at least 10s");
    }
    if (cfg.poll.interval.count() > 0 && cfg.poll.interval < std::chrono::seconds(10)) {
      bad("poll.interval", "must be 0 (off) or at least 10s");
    }
    // Below this a worker cannot even start (its threads' stacks alone take 8 MiB each).
    if (cfg.worker.memory_max != 0 && cfg.worker.memory_max < (std::int64_t{64} << 20)) {
      bad("worker.memory_max", "must be 0 (none) or at least 64MiB");
    }
    ValidateForge();
    if (!cfg.http.public_url.empty()) {
      while (cfg.http.public_url.ends_with('/')) cfg.http.public_url.pop_back();
      if (auto err = CheckNotifyUrl(cfg.http.public_url, true)) bad("http.public_url", *err);
    }
    // Found now rather than at the first sync, minutes later, in a deployment log.
    for (auto [key, path] :
         {std::pair<std::string_view, const std::string*>{"repo.ssh_key_file", &cfg.repo.ssh_key_file},
          {"repo.known_hosts_file", &cfg.repo.known_hosts_file}}) {
      if (path->empty()) continue;
      std::ifstream in(*path);
      if (!in) bad(key, "cannot read " + Quoted(*path) + ": " + std::strerror(errno));
    }
  }
};

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::expected<Config, std::vector<Error>> Load(const LoadOptions& options) {
  Loader l;
  l.ApplyDefaults();

  std::string file = options.file;
  bool explicit_file = !file.empty();
  if (file.empty()) {
    if (auto v = options.env("PODCD_CONFIG"); v && !v->empty()) {
      file = *v;
      explicit_file = true;
    }
  }
  if (file.empty()) file = options.default_file;
  std::error_code ec;
  if (explicit_file || fs::exists(file, ec)) {
    l.ApplyFile(file, file, options.text);
    l.cfg.source = file;
  } else {
    l.cfg.source = "environment";
  }
  l.ApplyEnv(options.env);
  l.ReadPendingSecretFiles();
  l.Validate(options.require_webhook_secret);
  if (!l.errors.empty()) return std::unexpected(std::move(l.errors));
  log::AddSecret(l.cfg.webhook.secret);
  log::AddSecret(l.cfg.api.token);
  log::AddSecret(l.cfg.repo.token);
  for (auto& s : log::UrlSecrets(l.cfg.repo.url)) log::AddSecret(std::move(s));
  for (auto& s : NotifySecrets(l.cfg)) log::AddSecret(std::move(s));
  return std::move(l.cfg);
}

std::vector<std::string> KeepRestartOnly(Config& fresh, const Config& running) {
  std::vector<std::string> kept;
  auto keep = [&](auto& now, const auto& before, const char* name) {
    if (now != before && (kept.empty() || kept.back() != name)) kept.emplace_back(name);
    now = before;
  };
  keep(fresh.listen.host, running.listen.host, "listen");
  keep(fresh.listen.port, running.listen.port, "listen");
  keep(fresh.state_dir, running.state_dir, "state_dir");
  keep(fresh.repo.path, running.repo.path, "repo.path");
  keep(fresh.repo.services_dir, running.repo.services_dir, "repo.services_dir");
  keep(fresh.podman.socket, running.podman.socket, "podman.socket");
  keep(fresh.podman.auth_file, running.podman.auth_file, "podman.auth_file");
  keep(fresh.podman.timeout, running.podman.timeout, "podman.timeout");
  keep(fresh.webhook.max_body_bytes, running.webhook.max_body_bytes, "webhook.max_body_bytes");
  keep(fresh.webhook.max_header_bytes, running.webhook.max_header_bytes, "webhook.max_header_bytes");
  keep(fresh.webhook.auth_failures_per_minute, running.webhook.auth_failures_per_minute,
       "webhook.auth_failures_per_minute");
  keep(fresh.webhook.request_timeout, running.webhook.request_timeout, "webhook.request_timeout");
  keep(fresh.webhook.delivery_ids, running.webhook.delivery_ids, "webhook.delivery_ids");
  keep(fresh.webhook.max_connections, running.webhook.max_connections, "webhook.max_connections");
  keep(fresh.webhook.max_connections_per_address, running.webhook.max_connections_per_address,
       "webhook.max_connections_per_address");
  keep(fresh.queue_limit, running.queue_limit, "queue_limit");
  keep(fresh.trusted_proxies, running.trusted_proxies, "trusted_proxies");
  return kept;
}

std::optional<std::string> NormalBasePath(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty()) continue;
    if (part == "." || part == ".." || part.size() > 64) return std::nullopt;
    for (char ch : part) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
        return std::nullopt;
    }
    out += "/" + std::string(part);
  }
  if (out.size() > 200) return std::nullopt;
  return out;
}

std::string Summary(const Config& c) {
  std::string s =
      "config OK (" + c.source + "): listen " + c.listen.host + ":" + std::to_string(c.listen.port);
  s += ", repo " + c.repo.path;
  if (!c.repo.url.empty()) s += " from " + log::RedactUserinfo(c.repo.url);
  s += " (branch " + c.repo.branch + ", services " + c.repo.services_dir + ")";
  s += ", podman " + c.podman.socket + ", state " + c.state_dir;
  if (!c.self.stack.empty()) s += ", self " + c.self.stack;
  s += ", poll " + FormatDuration(c.poll.interval);
  s += c.prune ? ", prune on" : ", prune off";
  if (!c.auth.users_file.empty()) {
    s += ", users " + c.auth.users_file + (c.api.token.empty() ? "" : " and api token");
  } else {
    s += c.api.token.empty() ? ", api loopback-only" : ", api token set";
  }
  if (!c.http.base_path.empty()) s += ", under " + c.http.base_path;
  if (!c.notify.empty()) s += ", notify " + std::to_string(c.notify.size()) + " target(s)";
  if (!c.forge.type.empty()) s += ", statuses to " + c.forge.type + " " + c.forge.repository;
  return s;
}

std::vector<KeyDoc> DescribeKeys() {
  std::vector<KeyDoc> out;
  for (const auto& s : Table()) {
    KeyDoc d{
        std::string(s.key), std::string(s.default_value), {}, std::string(s.help), s.kind == Kind::kSecret};
    for (auto e : s.env) {
      d.env.emplace_back(e);
      if (s.kind == Kind::kSecret) d.env.push_back(std::string(e) + "_FILE");
    }
    out.push_back(std::move(d));
  }
  // A list of mappings, read apart from the table (notify_config.hpp); no environment variable.
  out.push_back(
      {"notify", "", {}, "who hears of deployments: a list of targets (docs/notifications.md)", false});
  return out;
}

}  // namespace podcd::config
