// Secrets stay secret (issue 13): a distinct canary value in each place a secret comes from, a
// real daemon, its workers, real Podman and a real git remote over HTTP; then every output podcd
// makes is searched for every canary: the daemon's log, a worker's events and log, the records on
// disk and through the API, /metrics, /stacks, the containers' labels, `podcd plan`, `plan
// --json`, `check-config`, and the notices a webhook target receives (issue 15). Nothing may be found, in any
// spelling a writer could give it (as is, JSON-escaped, or its tail after an escape cut it).
#include <spawn.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "e2e_fixture.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "support/receiver.hpp"
#include "util/base64.hpp"
#include "util/json_text.hpp"
#include "util/sha256.hpp"
#include "worker/protocol.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

struct Canary {
  std::string source;
  std::string value;
  std::string tail;  // a piece of it no escape touches, found even when the rest was escaped
};

// The testenv's password-protected registry (scripts/testenv.sh) accepts only this password.
const char* EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

const Canary kWebhook{"webhook secret", "canary-webhook-7Qp2x9Lm4vB8", "7Qp2x9Lm4vB8"};
const Canary kApiToken{"API token", "canary-apitoken-3Jd8s1Kq0zN5", "3Jd8s1Kq0zN5"};
const Canary kUrlToken{"repository URL token", "canary-urltoken-5Vb6n2Xc8rT1", "5Vb6n2Xc8rT1"};
const Canary kEnvValue{"secrets/app.env value", "canary-envvalue-9Hf4t7Wy1uK3", "9Hf4t7Wy1uK3"};
const Canary kFileValue{"secrets file", "canary-filevalue-2Ge5r8Tu6iP0", "2Ge5r8Tu6iP0"};
const Canary kQuoted{"value with quote and backslash", "canary-\"quo\\ted\"-4Rm7Yq2Lc9", "4Rm7Yq2Lc9"};
const Canary kPemLine{"PEM line of secrets/pem.env", "MIIEvQIBADAN+canaryPEMline/8Wd3Zs6Ha1", "8Wd3Zs6Ha1"};

// The label hash before keys: 48-bit FNV-1a of the canonical value (a JSON string).
std::string OldFnv(const std::string& value) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : value) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Smart HTTP git (scripts/git_http_server.py) on loopback behind basic auth that accepts only
// `token` as the password (it reads it from its environment); stopped by its pid.
class HttpGit {
 public:
  HttpGit(const std::filesystem::path& root, const std::string& token) : port_(FreeLoopbackPorts()) {
    REQUIRE(port_ != 0);
    const std::string script = PODCD_SOURCE_DIR "/scripts/git_http_server.py";
    const std::string log = (root / "git-http.log").string();
    std::vector<std::string> args = {"/usr/bin/python3", script, root.string(), std::to_string(port_)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
    envs.push_back("GIT_HTTP_TEST_TOKEN=" + token);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    for (int i = 0; i < 500; ++i) {  // up when it answers (401 without the token)
      if (Call("GET", Url("/")).status != 0) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  ~HttpGit() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  HttpGit(const HttpGit&) = delete;
  HttpGit& operator=(const HttpGit&) = delete;
  [[nodiscard]] std::string Url(const std::string& path, const std::string& userinfo = "") const {
    return "http://" + userinfo + "127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

// Waits (at most `limit`) until the deployment is finished; returns its record.
std::string WaitFinished(Daemon& d, const std::string& id, const std::vector<std::string>& auth,
                         std::chrono::seconds limit) {
  std::string record;
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    record = Call("GET", d.Url("/deployments/" + id), auth).body;
    const auto state = JsonField(record, "state");
    if (state == "succeeded" || state == "failed" || state == "superseded") break;
    std::this_thread::sleep_for(200ms);
  }
  return record;
}

// Every output, by name, and the canaries found in it (in any spelling).
struct Outputs {
  std::vector<std::pair<std::string, std::string>> texts;
  void Add(std::string name, std::string text) { texts.emplace_back(std::move(name), std::move(text)); }
  std::vector<std::string> Leaks(const std::vector<Canary>& canaries) const {
    std::vector<std::string> out;
    for (const auto& [name, text] : texts) {
      for (const auto& c : canaries) {
        std::string escaped;
        json::AppendEscaped(escaped, c.value);
        for (const std::string& form : {c.value, escaped, c.tail}) {
          if (text.find(form) != std::string::npos) {
            out.push_back(c.source + " in " + name + " (as \"" + form + "\")");
            break;
          }
        }
      }
    }
    return out;
  }
};

}  // namespace

TEST_CASE("canaries planted in every secret source appear in no output", "[e2e]") {
  PODCD_E2E_SETUP();
  const std::string auth_registry = EnvOr("PODCD_TEST_AUTH_REGISTRY", "");
  const Canary registry{"registry password", EnvOr("PODCD_TEST_AUTH_PASSWORD", "podcd-test-password"),
                        EnvOr("PODCD_TEST_AUTH_PASSWORD", "podcd-test-password")};
  const std::string registry_user = EnvOr("PODCD_TEST_AUTH_USER", "podcd");
  if (auth_registry.empty()) PODCD_SKIP("PODCD_TEST_AUTH_REGISTRY is unset; run scripts/test.sh");
  const std::vector<Canary> canaries = {kWebhook,  kApiToken,  kUrlToken, registry,
                                        kEnvValue, kFileValue, kQuoted,   kPemLine};

  Rig rig(env, {.settle = "1s", .health_timeout = "15s"});
  const std::filesystem::path secrets = rig.dir() / "secrets";
  std::filesystem::create_directories(secrets);
  // Single quotes: the value as it is, quote and backslash included.
  std::ofstream(secrets / "app.env") << "TOKEN=" << kEnvValue.value << "\nQUOTED='" << kQuoted.value << "'\n";
  std::ofstream(secrets / "token.txt") << kFileValue.value << "\n";
  std::ofstream(secrets / "pem.env") << "KEY_ID=k1\n" << kPemLine.value << "\n-----END PRIVATE KEY-----\n";
  const std::string auth_file = (rig.dir() / "auth.json").string();
  std::ofstream(auth_file) << "{\"auths\":{\"" << auth_registry << "\":{\"auth\":\""
                           << Base64Encode(registry_user + ":" + registry.value, false) << "\"}}}\n";

  const std::string ok = rig.Stack("canary-ok");
  const std::string leaky = rig.Stack("canary-leaky");
  const std::string pem = rig.Stack("canary-pem");
  const std::string env_file = "    env_file: " + (secrets / "app.env").string() + "\n";
  const std::string secret_def = "secrets:\n  token:\n    file: " + (secrets / "token.txt").string() + "\n";
  rig.Commit(
      {{"services/" + ok + "/compose.yml",
        "services:\n  app:\n    image: localhost/bb:1\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\"]\n"
        "    init: true\n" +
            env_file + "    secrets: [token]\n" + secret_def},
       // Prints every secret it was given, and the registry's password, then fails its gate.
       {"services/" + leaky + "/compose.yml",
        "services:\n  leaky:\n    image: " + auth_registry +
            "/bb:1\n    pull_policy: always\n    init: true\n" + env_file +
            "    secrets: [token]\n"
            "    healthcheck:\n      test: [\"CMD\", \"false\"]\n      interval: 1s\n      timeout: 1s\n"
            "      retries: 2\n"
            "    command: [\"sh\", \"-c\", \"printf '%s\\\\n' \\\"env=$$TOKEN\\\" \\\"quoted=$$QUOTED\\\" "
            "\\\"file=$$(cat /run/secrets/token)\\\" \\\"reg=" +
            registry.value + "\\\"; exec sleep 3600\"]\n" + secret_def},
       {"services/" + pem + "/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n    env_file: " +
                                                (secrets / "pem.env").string() + "\n"}},
      "canary stacks");

  // The remote over HTTP, its token in the URL's userinfo.
  HttpGit git(rig.dir(), kUrlToken.value);
  const std::string url = git.Url("/remote.git", "podcd:" + kUrlToken.value + "@");
  std::string insecure;  // http:// needs repo.allow_insecure where podcd knows that key
  for (const auto& k : config::DescribeKeys()) {
    if (k.key == "repo.allow_insecure") insecure = "  allow_insecure: true\n";
  }
  // Every notice of every run, to a receiver that records them (docs/notifications.md).
  Receiver notices;
  const auto config_file = rig.dir() / "canary.yml";
  std::ofstream(config_file) << "listen: 127.0.0.1:0\n"
                             << "webhook:\n  secret: " << kWebhook.value << "\n"
                             << "api:\n  token: " << kApiToken.value << "\n"
                             << "repo:\n  url: " << url
                             << "\n  branch: main\n  secrets_dir: " << secrets.string() << "\n"
                             << insecure << "podman:\n  socket: " << env.socket
                             << "\n  auth_file: " << auth_file << "\n"
                             << "state_dir: " << rig.state_dir().string() << "\n"
                             << "health:\n  settle: 1s\n  timeout: 15s\n"
                             << "poll:\n  interval: 0\n"
                             << "log:\n  level: debug\n  format: text\n"
                             << "notify:\n  - type: webhook\n    url: " << notices.Url("/notices")
                             << "\n    on: [started, succeeded, failed, rolled_back, refused, recovered]\n";

  Outputs outputs;
  const std::vector<std::string> auth = {"Authorization: Bearer " + kApiToken.value};
  {
    Daemon d(config_file, rig.dir() / "serve.log", "");
    INFO(d.Log());
    REQUIRE(d.port() != 0);
    // The start-up reconcile, then a signed webhook and one with a wrong signature.
    auto list = Call("GET", d.Url("/deployments?limit=1"), auth);
    const std::string first = JsonField(list.body, "id");
    REQUIRE_FALSE(first.empty());
    const std::string record = WaitFinished(d, first, auth, 300s);
    INFO(record);
    CHECK(JsonField(record, "state") == "failed");  // the leaky stack fails its gate
    CHECK(record.find("last log lines") != std::string::npos);
    CHECK(record.find("not KEY=VALUE") != std::string::npos);
    const std::string body = R"({"ref":"refs/heads/main"})";
    const auto mac = HmacSha256(kWebhook.value, body);
    const std::string sig =
        HexEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
    auto signed_hook = Call("POST", d.Url("/deploy-all-changed"),
                            {"X-Hub-Signature-256: sha256=" + sig, "Content-Type: application/json"}, body);
    CHECK(signed_hook.status == 202);
    auto forged =
        Call("POST", d.Url("/deploy-all-changed"),
             {"X-Hub-Signature-256: sha256=" + std::string(64, '0'), "X-Gitlab-Token: wrong"}, body);
    CHECK(forged.status == 401);
    if (const std::string second = JsonField(signed_hook.body, "deployment"); !second.empty())
      outputs.Add("the webhook's record", WaitFinished(d, second, auth, 300s));

    outputs.Add("GET /deployments/<id>", Call("GET", d.Url("/deployments/" + first), auth).body);
    outputs.Add("GET /deployments", Call("GET", d.Url("/deployments?limit=10"), auth).body);
    auto stacks = Call("GET", d.Url("/stacks"), auth);
    CHECK(stacks.status == 200);
    outputs.Add("GET /stacks", stacks.body);
    outputs.Add("GET /metrics", Call("GET", d.Url("/metrics"), auth).body);
    outputs.Add("answers", signed_hook.body + forged.body + list.body);
    // The start-up run's `started` and `failed` at least; the leaky stack's reason quotes its log.
    const auto received = notices.WaitFor(2, 30s);
    CHECK(received.size() >= 2);
    std::string bodies;
    for (const auto& n : received) {
      bodies += n.path + "\n" + n.body + "\n";
      for (const auto& [name, value] : n.headers) bodies += name + ": " + value + "\n";
    }
    CHECK(bodies.find(leaky) != std::string::npos);
    outputs.Add("the notices sent", bodies);
    // A reload logs the summary (the URL) again.
    d.Signal(SIGHUP);
    CHECK(d.WaitForLog("SIGHUP"));
    CHECK(d.Terminate() == 0);
    outputs.Add("the daemon's log", d.Log());
  }
  for (const auto& f : std::filesystem::directory_iterator(rig.state_dir() / "deployments"))
    outputs.Add("record " + f.path().filename().string(), Slurp(f.path()));

  // A worker as the daemon starts it, its events and its log lines: the leaky stack again.
  const std::string text = Slurp(config_file);
  state::Trigger trigger;
  trigger.kind = state::TriggerKind::kRedeployAndUpdate;
  trigger.stacks = {leaky, pem};
  trigger.pull = true;
  worker::Request request;
  request.id = "20261202-000000-000001";
  request.trigger = trigger;
  request.config = {config_file.string(), text, text};
  request.daemon_version = PODCD_VERSION;
  std::ofstream(rig.dir() / "request.json") << worker::EncodeRequest(request);
  auto worker =
      RunCommand(std::string(PODCD_BINARY) + " __run < " + Quote((rig.dir() / "request.json").string()));
  CHECK(worker.output.find("last log lines") != std::string::npos);
  outputs.Add("the worker's events and log", worker.output);

  outputs.Add("podcd plan", rig.Cli("plan --no-sync").output);
  outputs.Add("podcd plan --json", rig.Cli("plan --no-sync --json").output);
  outputs.Add("podcd plan (its config)", RunCommand(std::string(PODCD_BINARY) + " plan --no-sync --config " +
                                                    Quote(config_file.string()))
                                             .output);
  auto plan_json = RunCommand(std::string(PODCD_BINARY) + " plan --no-sync --json --config " +
                              Quote(config_file.string()));
  CHECK(plan_json.output.find("not KEY=VALUE") != std::string::npos);
  outputs.Add("podcd plan --json (its config)", plan_json.output);
  outputs.Add(
      "podcd check-config",
      RunCommand(std::string(PODCD_BINARY) + " check-config --config " + Quote(config_file.string())).output);

  // The labels of every container podcd made, as libpod reports them.
  std::string labels;
  for (const auto& stack : {ok, leaky}) {
    for (const auto& c : rig.Containers(stack)) {
      auto inspect = RunCommand("podman inspect --format '{{json .Config.Labels}}' " + Quote(c.id));
      labels += inspect.output;
    }
  }
  REQUIRE(labels.find("environment.TOKEN=") != std::string::npos);
  outputs.Add("container labels", labels);
  // Keyed: not the unkeyed hash a guess can be tested against.
  for (const auto& value : {kEnvValue.value, kQuoted.value}) {
    CHECK(labels.find(OldFnv(json::Quoted(value))) == std::string::npos);
    CHECK(labels.find(OldFnv(value)) == std::string::npos);
  }
  CHECK(labels.find("@key=") != std::string::npos);

  const auto leaks = outputs.Leaks(canaries);
  std::string all;
  for (const auto& l : leaks) all += l + "\n";
  INFO("leaks:\n" << all);
  CHECK(leaks.empty());
}
