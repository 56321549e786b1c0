// Runs the real `podcd serve` binary: SIGTERM during a request, restart persistence, `podcd sign`.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "http/webhook.hpp"
#include "reconcile/self_update.hpp"
#include "state/store.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "support/run.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using podcd::test::Call;

namespace {

constexpr std::string_view kSecret = "a-test-secret-of-some-length";

constexpr std::string_view kPlaceholderVariable = "PODCD_TEST_PLACEHOLDER_DELAY_MS";

// A `podcd serve` of this test's directory (support/daemon.hpp). With the placeholder
// variable, podcd-serve-test instead: only that test build has the hook.
class Daemon : public podcd::test::Daemon {
 public:
  Daemon(const podcd::test::TempDir& dir, const std::string& extra_env)
      : podcd::test::Daemon(
            dir / "podcd.yml", dir / ("serve-" + std::to_string(++count_) + ".log"), extra_env,
            extra_env.find(kPlaceholderVariable) != std::string::npos ? PODCD_SERVE_TEST_BINARY
                                                                      : PODCD_BINARY) {}

 private:
  static inline int count_ = 0;
};

void WriteConfig(const podcd::test::TempDir& dir, const std::string& extra = "") {
  std::filesystem::create_directories(dir / "repo/services/web");
  dir.Write("podcd.yml", "listen: 127.0.0.1:0\nwebhook:\n  secret: \"" + std::string(kSecret) +
                             "\"\nrepo:\n  path: " + (dir / "repo").string() +
                             "\nstate_dir: " + (dir / "state").string() + "\n" + extra);
}

std::string Field(const std::string& json, const char* key) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.IsObject() || !d.HasMember(key) || !d[key].IsString()) return "<missing>";
  return d[key].GetString();
}

}  // namespace

TEST_CASE("podcd serve: SIGTERM during a request answers it, records the run interrupted, exits 0") {
  podcd::test::TempDir dir;
  WriteConfig(dir);
  std::string id;
  {
    Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=60000");
    REQUIRE(d.port() != 0);
    podcd::test::HttpResult waited;
    std::string sig = "X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(kSecret, "");
    std::thread client([&] { waited = Call("POST", d.Url("/deploy-all-changed?wait=120"), {sig}, ""); });
    // Until the deployment runs.
    for (;;) {
      auto list = Call("GET", d.Url("/deployments?limit=1"));
      if (list.body.find("\"state\":\"running\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(d.Terminate() == 0);
    client.join();
    CHECK(waited.error.empty());
    CHECK(waited.status == 500);
    CHECK(Field(waited.body, "state") == "failed");
    CHECK(Field(waited.body, "reason") == "interrupted");
    id = Field(waited.body, "id");
    auto log = d.Log();
    CHECK(log.find("stopping signal=SIGTERM") != std::string::npos);
    CHECK(log.find(std::string(kSecret)) == std::string::npos);
  }
  {
    Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=0");
    REQUIRE(d.port() != 0);
    auto g = Call("GET", d.Url("/deployments/" + id));
    CHECK(g.status == 200);
    CHECK(Field(g.body, "reason") == "interrupted");
    CHECK(Call("GET", d.Url("/health")).status == 200);
    CHECK(d.Terminate() == 0);
  }
}

TEST_CASE("podcd serve: records left running by a crash are marked interrupted on the next start") {
  podcd::test::TempDir dir;
  WriteConfig(dir);
  std::string id;
  {
    Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=60000");
    REQUIRE(d.port() != 0);
    std::string sig = "X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(kSecret, "");
    auto r = Call("POST", d.Url("/deploy-all-changed"), {sig}, "");
    REQUIRE(r.status == 202);
    id = Field(r.body, "deployment");
    for (;;) {
      auto g = Call("GET", d.Url("/deployments/" + id));
      if (Field(g.body, "state") == "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Destructor: SIGKILL, a crash.
  }
  Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=0");
  REQUIRE(d.port() != 0);
  auto g = Call("GET", d.Url("/deployments/" + id));
  CHECK(Field(g.body, "state") == "failed");
  CHECK(Field(g.body, "reason") == "interrupted");
  CHECK(d.Log().find("marked failed") != std::string::npos);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("podcd sign prints the GitHub test vector") {
  podcd::test::TempDir dir;
  auto secret = dir.Write("secret", "It's a Secret to Everybody\n");
  auto body = dir.Write("body", "Hello, World!");
  auto r = podcd::test::RunCommand(std::string(PODCD_BINARY) + " sign --secret-file " + secret.string() +
                                   " " + body.string());
  CHECK(r.exit_code == 0);
  CHECK(r.output == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n");
  auto piped = podcd::test::RunCommand("printf 'Hello, World!' | " + std::string(PODCD_BINARY) +
                                       " sign --secret-file " + secret.string() + " -");
  CHECK(piped.output == r.output);
  CHECK(podcd::test::RunCommand(std::string(PODCD_BINARY) + " sign --secret-file /nonexistent body")
            .exit_code == 1);
  CHECK(podcd::test::RunCommand(std::string(PODCD_BINARY) + " sign --bogus").exit_code == 2);
  // Without --secret-file: the configured secret.
  auto configured = podcd::test::RunCommand(
      "env -i \"WEBHOOK_SECRET=It's a Secret to Everybody\" "
      "PODCD_REPO_PATH=/srv/env " +
      std::string(PODCD_BINARY) + " sign " + body.string());
  CHECK(configured.exit_code == 0);
  CHECK(configured.output == r.output);
}

TEST_CASE("podcd status prints tables and JSON from a running daemon") {
  podcd::test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=0");
  REQUIRE(d.port() != 0);
  std::string sig = "X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(kSecret, "");
  auto r = Call("POST", d.Url("/redeploy-and-update/web?wait=30"), {sig}, "");
  REQUIRE(r.status == 200);
  std::string id = Field(r.body, "id");
  const std::string bin = std::string(PODCD_BINARY) + " status --server " + d.Url("");
  auto list = podcd::test::RunCommand(bin);
  CHECK(list.exit_code == 0);
  CHECK(list.output.find("STACK") != std::string::npos);
  CHECK(list.output.find("web") != std::string::npos);
  CHECK(list.output.find(id) != std::string::npos);
  CHECK(list.output.find("succeeded") != std::string::npos);
  auto one = podcd::test::RunCommand(bin + " " + id);
  CHECK(one.exit_code == 0);
  CHECK(one.output.find("deployment  " + id) != std::string::npos);
  CHECK(one.output.find("test placeholder executor") != std::string::npos);
  auto js = podcd::test::RunCommand(bin + " --json " + id);
  CHECK(js.exit_code == 0);
  CHECK(Field(js.output, "id") == id);
  // The overview: one object with the daemon's deployments and stacks, valid JSON.
  auto overview = podcd::test::RunCommand(bin + " --json");
  CHECK(overview.exit_code == 0);
  rapidjson::Document all;
  all.Parse<rapidjson::kParseValidateEncodingFlag>(overview.output.data(), overview.output.size());
  REQUIRE_FALSE(all.HasParseError());
  REQUIRE(all.IsObject());
  CHECK(overview.output.starts_with("{\"deployments\":["));
  REQUIRE(all["deployments"].IsArray());
  REQUIRE(all["deployments"].Size() >= 1);
  CHECK(all["deployments"][0]["id"].GetString() == id);
  REQUIRE(all["stacks"].IsArray());
  CHECK(overview.output.find("\"web\"") != std::string::npos);
  auto missing = podcd::test::RunCommand(bin + " 20990101-000000-000001");
  CHECK(missing.exit_code == 1);
  CHECK(missing.output.find("404") != std::string::npos);
  CHECK(
      podcd::test::RunCommand(std::string(PODCD_BINARY) + " status --server http://127.0.0.1:1").exit_code ==
      1);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("podcd health: 0 when /health answers 200, 1 on 503 or a closed port, 2 on bad arguments") {
  const std::string bin(PODCD_BINARY);
  CHECK(podcd::test::RunCommand(bin + " health --timeout 0").exit_code == 2);
  CHECK(podcd::test::RunCommand(bin + " health --bogus").exit_code == 2);
  {
    // No Podman socket where the config says: /health answers 503 and names it.
    podcd::test::TempDir dir;
    WriteConfig(dir, "podman:\n  socket: " + (dir / "no.sock").string() + "\n");
    Daemon d(dir, "");
    REQUIRE(d.port() != 0);
    auto sick = podcd::test::RunCommand(bin + " health --server " + d.Url(""));
    CHECK(sick.exit_code == 1);
    CHECK(sick.output.find("answered 503") != std::string::npos);
    CHECK(sick.output.find("no.sock") != std::string::npos);
    CHECK(d.Terminate() == 0);
    auto down = podcd::test::RunCommand(bin + " health --timeout 2 --server " + d.Url(""));
    CHECK(down.exit_code == 1);
    CHECK(down.output.find("cannot reach") != std::string::npos);
  }
  const char* socket = std::getenv("PODCD_TEST_PODMAN_SOCKET");
  if (socket == nullptr || *socket == '\0')
    PODCD_SKIP("the healthy half needs the Podman API service of scripts/testenv.sh");
  podcd::test::TempDir dir;
  WriteConfig(dir, "podman:\n  socket: " + std::string(socket) + "\n");
  Daemon d(dir, "");
  REQUIRE(d.port() != 0);
  auto up = podcd::test::RunCommand(bin + " health --server " + d.Url(""));
  CHECK(up.exit_code == 0);
  CHECK(up.output.find("ok") != std::string::npos);
  auto by_env = podcd::test::RunCommand("PODCD_SERVER=" + d.Url("") + " " + bin + " health");
  CHECK(by_env.exit_code == 0);
}

TEST_CASE(
    "podcd serve: SIGHUP reloads the secret; an invalid file or a restart-only key changes nothing else") {
  podcd::test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=1");
  REQUIRE(d.port() != 0);
  auto post = [&](std::string_view secret) {
    std::string sig = "X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(secret, "");
    return Call("POST", d.Url("/deploy-all-changed"), {sig}, "").status;
  };
  constexpr std::string_view kNew = "a-rotated-secret-of-some-length";
  CHECK(post(kSecret) == 202);
  // A rotated secret, and a listen address that only a restart changes.
  dir.Write("podcd.yml", "listen: 127.0.0.1:1\nwebhook:\n  secret: \"" + std::string(kNew) +
                             "\"\nrepo:\n  path: " + (dir / "repo").string() +
                             "\nstate_dir: " + (dir / "state").string() + "\n");
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: configuration reloaded"));
  CHECK(d.Log().find("change only on a restart") != std::string::npos);
  CHECK(post(kSecret) == 401);
  CHECK(post(kNew) == 202);  // still on the old port
  // An invalid file: rejected, the running configuration stays.
  dir.Write("podcd.yml", "listen: 127.0.0.1:0\nwebhook:\n  secret: short\n  colour: red\n");
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("the new configuration is invalid"));
  CHECK(d.Log().find("webhook.colour") != std::string::npos);
  CHECK(post(kNew) == 202);
  CHECK(d.Running());
  CHECK(d.Terminate() == 0);
}

TEST_CASE("podcd serve: SIGHUP with a changed configuration queues a reconcile; an unchanged one does not") {
  podcd::test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, "PODCD_TEST_PLACEHOLDER_DELAY_MS=1");
  REQUIRE(d.port() != 0);
  auto count_sighup = [&] {
    auto list = Call("GET", d.Url("/deployments?limit=100"));
    int n = 0;
    for (auto at = list.body.find("\"event\":\"sighup\""); at != std::string::npos;
         at = list.body.find("\"event\":\"sighup\"", at + 1))
      ++n;
    return n;
  };
  // The same file: reloaded, nothing to bring the host to.
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: configuration reloaded"));
  CHECK(count_sighup() == 0);
  CHECK(d.Log().find("reconcile queued") == std::string::npos);
  // Prune turned on: what the host should run may differ now.
  WriteConfig(dir, "prune: true\n");
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: configuration reloaded", 2));
  REQUIRE(d.WaitForLog("SIGHUP: the configuration changed; reconcile queued"));
  CHECK(count_sighup() == 1);
  auto list = Call("GET", d.Url("/deployments?limit=1"));
  CHECK(list.body.find("\"kind\":\"deploy-all-changed\"") != std::string::npos);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("podcd serve: a pending self-update is closed from the updater's result before anything runs") {
  podcd::test::TempDir dir;
  // No Podman here: the updater container cannot be found, so its result file is all there is.
  WriteConfig(dir, "podman:\n  socket: " + (dir / "no.sock").string() + "\nself:\n  stack: podcd\n");
  const auto state_dir = dir / "state";
  std::string ok_id;
  std::string lost_id;
  {
    auto store = podcd::state::Store::Open(state_dir);
    REQUIRE(store);
    for (std::string* id : {&ok_id, &lost_id}) {
      podcd::state::Deployment rec;
      rec.id = (*store)->NewId();
      rec.trigger.kind = podcd::state::TriggerKind::kDeployAllChanged;
      rec.state = podcd::state::DeploymentState::kRunning;
      rec.stacks = {{"web", "updated", "", 10}, {"podcd", "handed-over", "updater podcd_podcd-updater", 0}};
      REQUIRE((*store)->Save(rec));
      *id = rec.id;
    }
  }
  podcd::reconcile::HandOver h{ok_id, "podcd", "abc", "podcd_podcd-updater", "f00d", "", 1, "podcd"};
  REQUIRE(podcd::reconcile::WriteHandOver(state_dir, h));
  podcd::reconcile::HandOverResult r;
  r.deployment = ok_id;
  r.ok = true;
  r.outcome = "updated";
  r.duration_ms = 3210;
  r.log = {"podcd: recreated in 3210 ms"};
  REQUIRE(podcd::reconcile::WriteHandOverResult(state_dir, r));
  {
    Daemon d(dir, "");
    REQUIRE(d.port() != 0);
    REQUIRE(d.WaitForLog("self_update=ok"));
    auto rec = Call("GET", d.Url("/deployments/" + ok_id), {}, "");
    CHECK(rec.status == 200);
    CHECK(Field(rec.body, "state") == "succeeded");
    CHECK(rec.body.find("[podcd] podcd: recreated in 3210 ms") != std::string::npos);
    CHECK(rec.body.find("\"handed-over\"") == std::string::npos);
    // The other running record had no hand-over: a crash left it, so it was interrupted.
    auto lost = Call("GET", d.Url("/deployments/" + lost_id), {}, "");
    CHECK(Field(lost.body, "state") == "failed");
    CHECK(Field(lost.body, "reason") == "interrupted");
    CHECK(d.WaitForLog("startup reconcile queued"));  // only after the hand-over was closed
    CHECK(d.Log().find("startup reconcile queued") > d.Log().find("self_update=ok"));
    CHECK_FALSE(std::filesystem::exists(state_dir / "handover.json"));
    CHECK_FALSE(std::filesystem::exists(state_dir / "handover-result.json"));
    CHECK(d.Terminate() == 0);
  }
  // The updater vanished without a result: the record is closed failed, never left running.
  std::string gone_id;
  {
    auto store = podcd::state::Store::Open(state_dir);
    REQUIRE(store);
    podcd::state::Deployment rec;
    rec.id = (*store)->NewId();
    rec.trigger.kind = podcd::state::TriggerKind::kDeployAllChanged;
    rec.state = podcd::state::DeploymentState::kRunning;
    REQUIRE((*store)->Save(rec));
    gone_id = rec.id;
  }
  h.deployment = gone_id;
  REQUIRE(podcd::reconcile::WriteHandOver(state_dir, h));
  Daemon d(dir, "");
  REQUIRE(d.port() != 0);
  REQUIRE(d.WaitForLog("self_update=failed"));
  auto rec = Call("GET", d.Url("/deployments/" + gone_id), {}, "");
  CHECK(Field(rec.body, "state") == "failed");
  CHECK(Field(rec.body, "reason") == "failed stacks: podcd");
  CHECK(rec.body.find("without a result") != std::string::npos);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("podcd status without Podman: /stacks is 503 with the reason; the history is still shown") {
  podcd::test::TempDir dir;
  WriteConfig(dir, "podman:\n  socket: " + (dir / "no-podman.sock").string() + "\n");
  Daemon d(dir, "");
  REQUIRE(d.port() != 0);
  // The start-up reconcile fails (no Podman) and is recorded.
  std::string listed;
  for (int i = 0; i < 300 && listed.find("\"failed\"") == std::string::npos; ++i) {
    listed = Call("GET", d.Url("/deployments?limit=1"), {}, "").body;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(listed.find("\"failed\"") != std::string::npos);
  auto stacks = Call("GET", d.Url("/stacks"), {}, "");
  CHECK(stacks.status == 503);
  CHECK(Field(stacks.body, "error").starts_with("cannot observe the stacks: "));
  CHECK(Field(stacks.body, "error").find("no-podman.sock") != std::string::npos);
  auto status = podcd::test::RunCommand(std::string(PODCD_BINARY) + " status --server " + d.Url(""));
  CHECK(status.exit_code == 1);
  CHECK(status.output.find("/stacks answered 503: cannot observe the stacks") != std::string::npos);
  CHECK(status.output.find("failed") != std::string::npos);  // the start-up reconcile's record
  // --json: the history, and null for the stacks it could not observe (the reason on stderr).
  auto js = podcd::test::RunCommand("{ " + std::string(PODCD_BINARY) + " status --json --server " +
                                    d.Url("") + " 2>/dev/null; }");
  CHECK(js.exit_code == 1);
  rapidjson::Document all;
  all.Parse<rapidjson::kParseValidateEncodingFlag>(js.output.data(), js.output.size());
  REQUIRE_FALSE(all.HasParseError());
  REQUIRE(all.IsObject());
  CHECK(all["deployments"].IsArray());
  CHECK(all["stacks"].IsNull());
  CHECK(d.Terminate() == 0);
}

TEST_CASE(
    "the released podcd and podcd-serve have no test hook: PODCD_TEST_PLACEHOLDER_DELAY_MS does nothing") {
  auto contains_name = [](const std::filesystem::path& binary) {
    std::ifstream in(binary, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str().find(kPlaceholderVariable) != std::string::npos;
  };
  const std::filesystem::path podcd(PODCD_BINARY);
  CHECK_FALSE(contains_name(podcd));
  CHECK_FALSE(contains_name(podcd.parent_path() / "podcd-serve"));
  CHECK(contains_name(PODCD_SERVE_TEST_BINARY));  // the search finds the name where it is

  // Started with the variable set, the released daemon does its real work: it queues the
  // startup reconcile, which the test mode skips, and says nothing of a test mode.
  podcd::test::TempDir dir;
  WriteConfig(dir);
  podcd::test::Daemon d(dir / "podcd.yml", dir / "released.log",
                        std::string(kPlaceholderVariable) + "=60000");
  REQUIRE(d.port() != 0);
  CHECK(d.WaitForLog("startup reconcile queued"));
  CHECK(d.Log().find("TEST MODE") == std::string::npos);
  CHECK(d.Log().find("test placeholder executor") == std::string::npos);
}

TEST_CASE(
    "podcd serve: thirty bad signatures then a good one from the same address, the good one is accepted") {
  podcd::test::TempDir dir;
  WriteConfig(dir);  // the default limit: 10 failures a minute
  Daemon d(dir, "");
  REQUIRE(d.port() != 0);
  const std::string body = R"({"ref":"refs/heads/main"})";
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = Call("POST", d.Url("/deploy-all-changed"),
                  {"X-Hub-Signature-256: sha256=" + std::string(64, 'f')}, body);
    CHECK((r.status == 401 || r.status == 429));
    limited += r.status == 429 ? 1 : 0;
  }
  CHECK(limited == 20);
  auto good = Call("POST", d.Url("/deploy-all-changed"),
                   {"X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(kSecret, body),
                    "X-GitHub-Delivery: after-thirty"},
                   body);
  CHECK(good.status == 202);
  CHECK(Field(good.body, "status") == "queued");
  d.Terminate();  // the run itself (no Podman here) is not what this test is about
}
