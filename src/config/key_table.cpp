#include "config/key_table_internal.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <utility>

#include "util/ip.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::config::detail {
namespace {

std::string Quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

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

}  // namespace

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

}  // namespace podcd::config::detail
