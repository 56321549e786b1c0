#include "config/config.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "support/temp_dir.hpp"
#include "util/log.hpp"

using namespace podcd;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "0123456789abcdef-secret";

struct Env {
  std::map<std::string, std::string> vars;
  config::EnvLookup Lookup() const {
    return [vars = vars](std::string_view n) -> std::optional<std::string> {
      auto it = vars.find(std::string(n));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

config::LoadOptions Options(const Env& env, std::string file = "") {
  config::LoadOptions o;
  o.file = std::move(file);
  o.env = env.Lookup();
  o.default_file = "/nonexistent/podcd.yml";
  return o;
}

std::string AllErrors(const std::vector<Error>& errs) {
  std::string out;
  for (const auto& e : errs) out += e.What() + "\n";
  return out;
}

config::Config MustLoad(const config::LoadOptions& o) {
  auto r = config::Load(o);
  INFO((r ? std::string() : AllErrors(r.error())));
  REQUIRE(r);
  return *r;
}

std::vector<Error> MustFail(const config::LoadOptions& o) {
  auto r = config::Load(o);
  REQUIRE_FALSE(r);
  return r.error();
}

bool HasError(const std::vector<Error>& errs, const std::string& what) {
  for (const auto& e : errs) {
    if (e.What() == what) return true;
  }
  FAIL_CHECK("no error \"" << what << "\" among:\n" << AllErrors(errs));
  return false;
}

}  // namespace

TEST_CASE("defaults come from the one table; environment alone is enough") {
  Env env{{{"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}}};
  auto c = MustLoad(Options(env));
  CHECK(c.source == "environment");
  CHECK(c.listen.host == "0.0.0.0");
  CHECK(c.listen.port == 8080);
  CHECK(c.webhook.max_body_bytes == 1048576);
  CHECK(c.webhook.auth_failures_per_minute == 10);
  CHECK(c.repo.branch == "main");
  CHECK(c.repo.services_dir == "services");
  CHECK(c.repo.secrets_dir == "secrets");
  CHECK(c.podman.socket == "/run/podman/podman.sock");
  CHECK(c.state_dir == "/var/lib/podcd");
  CHECK(c.poll.interval == 5min);  // drift is repaired without a push
  CHECK(c.poll.jitter == 30s);
  CHECK(c.worker.timeout == 1h);
  CHECK(c.worker.memory_max == std::int64_t{2} << 30);
  CHECK_FALSE(c.prune);
  CHECK(c.health.timeout == 2min);
  CHECK(c.log.format == log::Format::kText);
  CHECK(c.log.level == log::Level::kInfo);
  CHECK(c.policy.allowed_bind_roots == std::vector<std::string>{"/etc/localtime", "/etc/timezone"});
  CHECK(c.api.token.empty());
  CHECK(c.trusted_proxies.empty());
  CHECK(c.parallel_stacks == 4);
  CHECK(c.http.base_path.empty());  // "/": the root
}

TEST_CASE("http.base_path is kept as /prefix without a trailing slash; IPD's API_ROOT is read") {
  CHECK(config::NormalBasePath("/") == "");
  CHECK(config::NormalBasePath("") == "");
  CHECK(config::NormalBasePath("podcd/") == "/podcd");
  CHECK(config::NormalBasePath("//ops//podcd/") == "/ops/podcd");
  CHECK_FALSE(config::NormalBasePath("/a/../b"));
  CHECK_FALSE(config::NormalBasePath("/a b"));
  CHECK_FALSE(config::NormalBasePath("/x\"<script>"));
  Env env{{{"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}, {"API_ROOT", "/deploy/"}}};
  CHECK(MustLoad(Options(env)).http.base_path == "/deploy");
  env.vars["PODCD_HTTP_BASE_PATH"] = "/bad path";
  auto bad = config::Load(Options(env));
  REQUIRE_FALSE(bad);
  CHECK_THAT(AllErrors(bad.error()), Catch::Contains("http.base_path"));
}

TEST_CASE("every fixed environment name overrides its key") {
  test::TempDir d;
  Env env{{{"PODCD_WEBHOOK_SECRET", kSecret},
           {"PODCD_LISTEN", "127.0.0.1:9000"},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"PODCD_REPO_URL", "git://127.0.0.1/env.git"},
           {"PODCD_REPO_ALLOW_INSECURE", "true"},
           {"PODCD_REPO_BRANCH", "prod"},
           {"PODCD_SERVICES_DIR", "stacks"},
           {"PODCD_PODMAN_SOCKET", "/run/user/1000/podman/podman.sock"},
           {"PODCD_SELF_STACK", "podcd"},
           {"PODCD_STATE_DIR", "/var/lib/other"},
           {"PODCD_PRUNE", "true"},
           {"PODCD_API_TOKEN", "api-token-0123456789"},
           {"PODCD_POLL_INTERVAL", "5m"},
           {"PODCD_LOG_FORMAT", "json"},
           {"PODCD_LOG_LEVEL", "debug"},
           {"PODCD_WEBHOOK_MAX_BODY_BYTES", "2048"},
           {"PODCD_POLICY_ALLOWED_BIND_ROOTS", "/srv/data, /etc/localtime"},
           {"PODCD_POLICY_ALLOW", "podcd:podman_socket;web:privileged,devices"},
           {"PODCD_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,fd00::/8"}}};
  auto c = MustLoad(Options(env));
  CHECK(c.listen.host == "127.0.0.1");
  CHECK(c.listen.port == 9000);
  CHECK(c.webhook.secret == kSecret);
  CHECK(c.repo.path == "/srv/env");
  CHECK(c.repo.url == "git://127.0.0.1/env.git");
  CHECK(c.repo.allow_insecure);
  CHECK(c.repo.branch == "prod");
  CHECK(c.repo.services_dir == "stacks");
  CHECK(c.podman.socket == "/run/user/1000/podman/podman.sock");
  CHECK(c.self.stack == "podcd");
  CHECK(c.state_dir == "/var/lib/other");
  CHECK(c.prune);
  CHECK(c.api.token == "api-token-0123456789");
  CHECK(c.poll.interval == 5min);
  CHECK(c.log.format == log::Format::kJson);
  CHECK(c.log.level == log::Level::kDebug);
  CHECK(c.webhook.max_body_bytes == 2048);
  CHECK(c.policy.allowed_bind_roots == std::vector<std::string>{"/srv/data", "/etc/localtime"});
  CHECK(c.policy.allow.at("podcd") == std::vector<std::string>{"podman_socket"});
  CHECK(c.policy.allow.at("web") == std::vector<std::string>{"privileged", "devices"});
  CHECK(c.trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  log::ClearSecretsForTest();
}

TEST_CASE("the original deploy server's names are honoured; PODCD_* wins when both are set") {
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"GITOPS_SERVICES_DIRECTORY", "gitops"},
           {"DEPLOY_SERVER_NAME", "deploy-server"},
           {"CONTAINER_HOST", "unix:///tmp/podman.sock"}}};
  auto c = MustLoad(Options(env));
  CHECK(c.repo.services_dir == "gitops");
  CHECK(c.self.stack == "deploy-server");
  CHECK(c.podman.socket == "/tmp/podman.sock");

  env.vars["PODCD_SERVICES_DIR"] = "services2";
  env.vars["PODCD_SELF_STACK"] = "podcd";
  env.vars["PODCD_PODMAN_SOCKET"] = "/run/podman.sock";
  env.vars["PODCD_WEBHOOK_SECRET"] = "another-secret-of-16+";
  auto c2 = MustLoad(Options(env));
  CHECK(c2.repo.services_dir == "services2");
  CHECK(c2.self.stack == "podcd");
  CHECK(c2.podman.socket == "/run/podman.sock");
  CHECK(c2.webhook.secret == "another-secret-of-16+");
  log::ClearSecretsForTest();
}

TEST_CASE("CONTAINER_HOST must be a unix socket") {
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"CONTAINER_HOST", "tcp://1.2.3.4:2375"}}};
  auto errs = MustFail(Options(env));
  HasError(errs,
           "environment CONTAINER_HOST: podman.socket: only unix:// sockets are supported, got "
           "\"tcp://1.2.3.4:2375\"");
}

TEST_CASE("secrets can come from *_FILE variables and *_file keys, trailing newline dropped") {
  test::TempDir d;
  auto secret_file = d.Write("secret", std::string(kSecret) + "\n");
  auto token_file = d.Write("token", "api-token-from-file-0001\n");
  Env env{{{"WEBHOOK_SECRET_FILE", secret_file.string()},
           {"PODCD_API_TOKEN_FILE", token_file.string()},
           {"PODCD_REPO_PATH", "/srv/env"}}};
  auto c = MustLoad(Options(env));
  CHECK(c.webhook.secret == kSecret);
  CHECK(c.api.token == "api-token-from-file-0001");

  auto cfg = d.Write("podcd.yml",
                     "webhook:\n  secret_file: " + secret_file.string() +
                         "\nrepo:\n  path: /srv/env\napi:\n  token_file: " + token_file.string() + "\n");
  auto c2 = MustLoad(Options(Env{}, cfg.string()));
  CHECK(c2.webhook.secret == kSecret);
  CHECK(c2.api.token == "api-token-from-file-0001");
  log::ClearSecretsForTest();
}

TEST_CASE("a missing secret file and a value given twice are errors") {
  Env env{{{"WEBHOOK_SECRET_FILE", "/nonexistent/secret"}, {"PODCD_REPO_PATH", "/srv/env"}}};
  auto errs = MustFail(Options(env));
  CHECK(AllErrors(errs).find("environment WEBHOOK_SECRET_FILE: webhook.secret: cannot read secret file "
                             "\"/nonexistent/secret\"") != std::string::npos);
  Env both{{{"WEBHOOK_SECRET_FILE", "/x"}, {"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}}};
  HasError(MustFail(Options(both)),
           "environment: webhook.secret: both WEBHOOK_SECRET and WEBHOOK_SECRET_FILE are set; give one");
}

TEST_CASE("the file sets keys; the environment overrides the file") {
  test::TempDir d;
  auto f = d.Write("podcd.yml",
                   "# podcd\n"
                   "listen: 127.0.0.1:8081\n"
                   "webhook:\n"
                   "  secret: " +
                       std::string(kSecret) +
                       "\n"
                       "  max_body_bytes: 4096\n"
                       "repo:\n"
                       "  url: file:///srv/env.git\n"
                       "  branch: prod\n"
                       "poll:\n"
                       "  interval: 10m\n"
                       "  jitter: 1m\n"
                       "prune: true\n"
                       "policy:\n"
                       "  allowed_bind_roots: [/srv/data]\n"
                       "  allow:\n"
                       "    podcd: [podman_socket]\n"
                       "log: {format: json, level: warn}\n"
                       "state_dir: /var/lib/podcd2\n");
  auto c = MustLoad(Options(Env{}, f.string()));
  CHECK(c.source == f.string());
  CHECK(c.listen.port == 8081);
  CHECK(c.webhook.max_body_bytes == 4096);
  CHECK(c.repo.url == "file:///srv/env.git");
  CHECK(c.repo.path == "/var/lib/podcd2/repo");  // derived from state_dir when cloning
  CHECK(c.repo.branch == "prod");
  CHECK(c.poll.interval == 10min);
  CHECK(c.poll.jitter == 1min);
  CHECK(c.prune);
  CHECK(c.policy.allowed_bind_roots == std::vector<std::string>{"/srv/data"});
  CHECK(c.policy.allow.at("podcd") == std::vector<std::string>{"podman_socket"});
  CHECK(c.log.format == log::Format::kJson);
  CHECK(c.log.level == log::Level::kWarn);

  Env env{{{"PODCD_LISTEN", "127.0.0.1:9999"}, {"PODCD_REPO_BRANCH", "main"}, {"PODCD_PRUNE", "false"}}};
  auto c2 = MustLoad(Options(env, f.string()));
  CHECK(c2.listen.port == 9999);
  CHECK(c2.repo.branch == "main");
  CHECK_FALSE(c2.prune);
  CHECK(c2.webhook.max_body_bytes == 4096);
  log::ClearSecretsForTest();
}

TEST_CASE("PODCD_CONFIG names the file; the default file is read when it exists") {
  test::TempDir d;
  auto f =
      d.Write("etc/podcd.yml", "webhook: {secret: " + std::string(kSecret) + "}\nrepo: {path: /srv/a}\n");
  Env env{{{"PODCD_CONFIG", f.string()}}};
  CHECK(MustLoad(Options(env)).repo.path == "/srv/a");
  auto o = Options(Env{});
  o.default_file = f.string();
  CHECK(MustLoad(o).repo.path == "/srv/a");
  // An explicitly named file that does not exist is an error, a missing default is not.
  Env missing{{{"PODCD_CONFIG", (d / "nope.yml").string()}}};
  CHECK(AllErrors(MustFail(Options(missing))).find("nope.yml") != std::string::npos);
  log::ClearSecretsForTest();
}

TEST_CASE("errors name file, line, column and key path; all of them are reported") {
  test::TempDir d;
  auto f = d.Write("podcd.yml",
                   "listen: 0.0.0.0:8080\n"          // 1
                   "webhook:\n"                      // 2
                   "  secret: short\n"               // 3
                   "  max_body_bytes: lots\n"        // 4
                   "  colour: blue\n"                // 5
                   "repo:\n"                         // 6
                   "  path: /srv/env\n"              // 7
                   "prune: sometimes\n"              // 8
                   "poll:\n"                         // 9
                   "  interval: 5\n"                 // 10
                   "log: [json]\n"                   // 11
                   "policy:\n"                       // 12
                   "  allow: {web: [everything]}\n"  // 13
                   "nonsense: 1\n");                 // 14
  auto errs = MustFail(Options(Env{}, f.string()));
  std::string p = f.string();
  HasError(errs, p + ":4:3: webhook.max_body_bytes: expected a positive integer, got \"lots\"");
  HasError(errs, p + ":5:3: webhook.colour: unknown key");
  HasError(errs, p + ":8:1: prune: expected true or false, got \"sometimes\"");
  HasError(errs,
           p + ":10:3: poll.interval: expected a duration such as 30s, 5m or 1h30m (0 for off), got \"5\"");
  HasError(errs, p + ":11:1: log: expected a mapping, got a sequence");
  HasError(errs, p + ":14:1: nonsense: unknown key");
  CHECK(AllErrors(errs).find("unknown policy rule \"everything\" for stack \"web\"") != std::string::npos);
  HasError(errs, "config: webhook.secret: must be at least 16 bytes, got 5");
}

TEST_CASE("YAML syntax errors and duplicate keys carry their position") {
  test::TempDir d;
  auto f = d.Write("podcd.yml", "repo:\n  path: /a\n  path: /b\n");
  HasError(MustFail(Options(Env{}, f.string())), f.string() + ":3:3: duplicate key \"path\"");
  auto g = d.Write("bad.yml", "repo: {path: /a\n");
  auto errs = MustFail(Options(Env{}, g.string()));
  CHECK(errs.front().context.starts_with(g.string() + ":"));
  auto h = d.Write("list.yml", "- a\n- b\n");
  CHECK(AllErrors(MustFail(Options(Env{}, h.string()))).find("expected a mapping at the top level") !=
        std::string::npos);
}

TEST_CASE("a missing or short webhook secret refuses to start; there is no auth-off mode") {
  Env none{{{"PODCD_REPO_PATH", "/srv/env"}}};
  CHECK(AllErrors(MustFail(Options(none))).find("webhook.secret: is required") != std::string::npos);
  Env empty{{{"PODCD_REPO_PATH", "/srv/env"}, {"WEBHOOK_SECRET", ""}}};
  CHECK(AllErrors(MustFail(Options(empty))).find("webhook.secret: is required") != std::string::npos);
  Env shortv{{{"PODCD_REPO_PATH", "/srv/env"}, {"WEBHOOK_SECRET", "fifteen-bytes!!"}}};
  HasError(MustFail(Options(shortv)), "config: webhook.secret: must be at least 16 bytes, got 15");
  Env ok{{{"PODCD_REPO_PATH", "/srv/env"}, {"WEBHOOK_SECRET", "sixteen-bytes!!!"}}};
  MustLoad(Options(ok));
  log::ClearSecretsForTest();
}

TEST_CASE("environment values are validated like file values") {
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"PODCD_LISTEN", "localhost"},
           {"PODCD_LOG_FORMAT", "xml"},
           {"PODCD_SERVICES_DIR", "../etc"},
           {"PODCD_SELF_STACK", "Bad Name"},
           {"PODCD_STATE_DIR", "relative"},
           {"PODCD_POLL_INTERVAL", "1s"},
           {"PODCD_TRUSTED_PROXIES", "127.0.0.1,proxy.local"}}};
  auto errs = MustFail(Options(env));
  HasError(errs,
           "environment PODCD_TRUSTED_PROXIES: trusted_proxies: expected IP addresses or networks "
           "(10.0.0.0/8), got \"proxy.local\"");
  HasError(errs,
           "environment PODCD_LISTEN: listen: expected host:port (e.g. 0.0.0.0:8080 or [::1]:8080), got "
           "\"localhost\"");
  HasError(errs, "environment PODCD_LOG_FORMAT: log.format: expected text or json, got \"xml\"");
  HasError(errs, "config: repo.services_dir: must be a relative path inside the repo, got \"../etc\"");
  HasError(errs, "config: self.stack: is not a valid stack name: \"Bad Name\"");
  HasError(errs, "config: state_dir: must be an absolute path, got \"relative\"");
  HasError(errs, "config: poll.interval: must be 0 (off) or at least 10s");
}

TEST_CASE("worker limits: a duration, and a size with a binary unit; 0 turns poll and memory off") {
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"PODCD_WORKER_TIMEOUT", "90m"},
           {"PODCD_WORKER_MEMORY_MAX", "512MiB"},
           {"PODCD_POLL_INTERVAL", "0"}}};
  auto c = MustLoad(Options(env));
  CHECK(c.worker.timeout == 90min);
  CHECK(c.worker.memory_max == std::int64_t{512} << 20);
  CHECK(c.poll.interval == 0ms);
  for (auto [text, bytes] : {std::pair<const char*, std::int64_t>{"0", 0},
                             {"1g", std::int64_t{1} << 30},
                             {"3GiB", std::int64_t{3} << 30},
                             {"100M", std::int64_t{100} << 20},
                             {"65536k", std::int64_t{64} << 20},
                             {"1TB", std::int64_t{1} << 40},
                             {"68719476736", std::int64_t{64} << 30}}) {
    env.vars["PODCD_WORKER_MEMORY_MAX"] = text;
    INFO(text);
    CHECK(MustLoad(Options(env)).worker.memory_max == bytes);
  }
  env.vars["PODCD_WORKER_MEMORY_MAX"] = "2 potatoes";
  env.vars["PODCD_WORKER_TIMEOUT"] = "0";
  auto errs = MustFail(Options(env));
  HasError(errs,
           "environment PODCD_WORKER_MEMORY_MAX: worker.memory_max: expected a size such as 512MiB or 2GiB "
           "(0 for none), got \"2 potatoes\"");
  HasError(errs, "config: worker.timeout: must be more than 0: it is a limit");
  env.vars["PODCD_WORKER_MEMORY_MAX"] = "1MiB";
  env.vars["PODCD_WORKER_TIMEOUT"] = "1h";
  HasError(MustFail(Options(env)), "config: worker.memory_max: must be 0 (none) or at least 64MiB");
}

TEST_CASE("a limit of 0 is refused: it meant no limit at all to libcurl and the git child") {
  for (const char* key : {"PODCD_PODMAN_TIMEOUT", "PODCD_REPO_SYNC_TIMEOUT", "PODCD_WEBHOOK_REQUEST_TIMEOUT",
                          "PODCD_HEALTH_TIMEOUT"}) {
    Env env{{{"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}, {key, "0"}}};
    CHECK(AllErrors(MustFail(Options(env))).find("must be more than 0: it is a limit") != std::string::npos);
  }
  Env ok{{{"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}, {"PODCD_PODMAN_TIMEOUT", "1s"}}};
  CHECK(MustLoad(Options(ok)).podman.timeout == std::chrono::seconds(1));
  log::ClearSecretsForTest();
}

TEST_CASE("without repo.path or repo.url there is nothing to reconcile") {
  Env env{{{"WEBHOOK_SECRET", kSecret}}};
  HasError(MustFail(Options(env)),
           "config: repo.path: set repo.path (PODCD_REPO_PATH) or repo.url (PODCD_REPO_URL)");
}

TEST_CASE("secrets are registered with the log mask and never in the summary or errors") {
  std::vector<std::string> lines;
  auto prev = log::SetSink([&](log::Level, std::string_view l) { lines.emplace_back(l); });
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_PATH", "/srv/env"},
           {"PODCD_API_TOKEN", "api-token-0123456789"}}};
  auto c = MustLoad(Options(env));
  CHECK(config::Summary(c).find(kSecret) == std::string::npos);
  CHECK(config::Summary(c).find("api-token-0123456789") == std::string::npos);
  log::Info("loaded", {{"secret", c.webhook.secret}, {"token", c.api.token}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(kSecret) == std::string::npos);
  CHECK(lines[0].find("api-token-0123456789") == std::string::npos);
  log::SetSink(prev);
  log::ClearSecretsForTest();

  Env shortv{{{"PODCD_REPO_PATH", "/srv/env"}, {"WEBHOOK_SECRET", "tooshort"}}};
  CHECK(AllErrors(MustFail(Options(shortv))).find("tooshort") == std::string::npos);
}

TEST_CASE("every key of the defaults table is documented in docs/configuration.md") {
  std::ifstream in(std::string(PODCD_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& k : config::DescribeKeys()) {
    INFO(k.key);
    CHECK(doc.find("`" + k.key + "`") != std::string::npos);
    for (const auto& e : k.env) {
      INFO(e);
      CHECK(doc.find(e) != std::string::npos);
    }
  }
}

TEST_CASE("stack names follow the rule") {
  CHECK(IsValidStackName("web"));
  CHECK(IsValidStackName("a.b_c-1"));
  CHECK_FALSE(IsValidStackName(""));
  CHECK_FALSE(IsValidStackName("Web"));
  CHECK_FALSE(IsValidStackName("-web"));
  CHECK_FALSE(IsValidStackName("a..b"));
  CHECK_FALSE(IsValidStackName(std::string(64, 'a')));
  CHECK(IsValidStackName(std::string(63, 'a')));
}

TEST_CASE("the bundled examples/podcd.yml is valid once its secret is supplied") {
  Env env{{{"WEBHOOK_SECRET", kSecret}}};
  auto c = MustLoad(Options(env, std::string(PODCD_SOURCE_DIR) + "/examples/podcd.yml"));
  CHECK(c.self.stack == "podcd");
  CHECK(c.policy.allow.at("podcd") == std::vector<std::string>{"podman_socket"});
  // Without the override, the missing secret file is named with its position.
  auto errs = MustFail(Options(Env{}, std::string(PODCD_SOURCE_DIR) + "/examples/podcd.yml"));
  CHECK(AllErrors(errs).find(
            "podcd.yml:4:3: webhook.secret_file: cannot read secret file \"/etc/podcd/webhook_secret\"") !=
        std::string::npos);
  log::ClearSecretsForTest();
}

TEST_CASE("an SSH key or known_hosts file that cannot be read is a config error naming key and path") {
  test::TempDir d;
  auto key = d.Write("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
  Env env{{{"PODCD_WEBHOOK_SECRET", kSecret},
           {"PODCD_REPO_URL", "ssh://git@127.0.0.1/env.git"},
           {"PODCD_REPO_SSH_KEY_FILE", key.string()},
           {"PODCD_REPO_KNOWN_HOSTS_FILE", (d / "missing_known_hosts").string()}}};
  auto c = config::Load(Options(env));
  REQUIRE_FALSE(c);
  const std::string all = AllErrors(c.error());
  CHECK(all.find("repo.known_hosts_file") != std::string::npos);
  CHECK(all.find("missing_known_hosts") != std::string::npos);
  CHECK(all.find("No such file") != std::string::npos);
  CHECK(all.find("repo.ssh_key_file") == std::string::npos);  // that one is there
  env.vars["PODCD_REPO_KNOWN_HOSTS_FILE"] = d.Write("known_hosts", "").string();
  CHECK(config::Load(Options(env)));
  log::ClearSecretsForTest();
}

TEST_CASE("a mapping key that is no text is an unknown key, not an exception") {
  // Found by the config fuzzer: "? \xa6:" made yaml-cpp throw out of config::Load (a SIGHUP
  // with such a file would have ended the daemon instead of keeping the running configuration).
  Env env{{{"WEBHOOK_SECRET", kSecret}, {"PODCD_REPO_PATH", "/srv/env"}}};
  for (const std::string& text : {std::string("? \xa6:\n"), std::string("? [a, b]\n: 1\n"),
                                  std::string("~: 1\n"), std::string("webhook:\n  ? {x: 1}\n  : 2\n")}) {
    INFO(text);
    auto o = Options(env, "/fuzz/podcd.yml");
    o.text = text;
    auto r = config::Load(o);
    REQUIRE_FALSE(r);
    CHECK(AllErrors(r.error()).find("unknown key") != std::string::npos);
  }
}

// The summary is logged at start and on SIGHUP: it printed repo.url whole, token included.
TEST_CASE("a repository URL's userinfo is redacted in the summary and masked in log lines") {
  std::vector<std::string> lines;
  auto prev = log::SetSink([&](log::Level, std::string_view l) { lines.emplace_back(l); });
  Env env{{{"WEBHOOK_SECRET", kSecret},
           {"PODCD_STATE_DIR", "/var/lib/podcd2"},
           {"PODCD_REPO_URL", "https://bob:url-token-canary-77@git.example/env.git"}}};
  auto c = MustLoad(Options(env));
  CHECK(config::Summary(c).find("url-token-canary-77") == std::string::npos);
  CHECK(config::Summary(c).find("https://***@git.example/env.git") != std::string::npos);
  log::Info("cloning", {{"url", c.repo.url}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("url-token-canary-77") == std::string::npos);
  log::SetSink(prev);
  log::ClearSecretsForTest();
}
