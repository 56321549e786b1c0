// Notices and commit statuses from a real daemon (podcd-serve-test, its runs scripted by
// PODCD_TEST_OUTCOMES) to real HTTP receivers on loopback (issue 15): each target type gets a
// body of its shape, the webhook's signature verifies, a stack failing three times is told once
// and its recovery once, a receiver that hangs or is down delays no deployment, no secret is
// ever sent, and the forges see pending, then success or failure, on the right commit.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "http/webhook.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "support/receiver.hpp"
#include "support/temp_dir.hpp"

using podcd::test::Call;
using podcd::test::Received;
using podcd::test::Receiver;

namespace {

constexpr std::string_view kSecret = "a-test-secret-of-some-length";
constexpr std::string_view kHookSecret = "notify-hook-secret-canary-7f3a";
constexpr std::string_view kCommit = "0123456789abcdef0123456789abcdef01234567";

struct Rig {
  explicit Rig(const std::string& notify_yaml) {
    std::filesystem::create_directories(dir / "repo/services/web");
    dir.Write("hook_secret", std::string(kHookSecret) + "\n");
    dir.Write("forge_token", "forge-token-canary-91c2\n");
    Script("commit " + std::string(kCommit) + "\nweb updated\n");
    std::string yaml = notify_yaml;
    for (auto [from, to] : {std::pair<std::string, std::string>{"HOOK", (dir / "hook_secret").string()},
                            {"TOKEN", (dir / "forge_token").string()}}) {
      if (auto at = yaml.find(from); at != std::string::npos) yaml.replace(at, from.size(), to);
    }
    dir.Write("podcd.yml",
              "listen: 127.0.0.1:0\nwebhook:\n  secret: \"" + std::string(kSecret) + "\"\nrepo:\n  path: " +
                  (dir / "repo").string() + "\nstate_dir: " + (dir / "state").string() +
                  "\npoll:\n  interval: 0\nhttp:\n  public_url: https://podcd.example.net/podcd\n" + yaml);
    daemon = std::make_unique<podcd::test::Daemon>(
        dir / "podcd.yml", dir / "serve.log",
        "PODCD_TEST_PLACEHOLDER_DELAY_MS=0 PODCD_TEST_OUTCOMES=" + (dir / "outcomes").string(),
        PODCD_SERVE_TEST_BINARY);
    REQUIRE(daemon->port() != 0);
  }
  // What the next runs report (serve_test_main.cpp).
  void Script(const std::string& text) const { dir.Write("outcomes", text); }
  // A push; waits for the deployment's end and returns its record's JSON.
  std::string Deploy() {
    std::string sig = "X-Hub-Signature-256: sha256=" + podcd::http::HmacSha256Hex(kSecret, "");
    auto r = Call("POST", daemon->Url("/deploy-all-changed?wait=30"), {sig}, "");
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 500));
    return r.body;
  }
  // Waits (at most `timeout`) until the series reaches `at_least`; returns its value.
  double WaitMetric(const std::string& series, double at_least,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    double v = Metric(series);
    while (v < at_least && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      v = Metric(series);
    }
    return v;
  }
  double Metric(const std::string& series) {
    auto m = Call("GET", daemon->Url("/metrics"));
    auto at = m.body.find(series + " ");
    if (at == std::string::npos) return 0;
    return std::stod(m.body.substr(at + series.size() + 1));
  }
  podcd::test::TempDir dir;
  std::unique_ptr<podcd::test::Daemon> daemon;
};

// One `notify:` entry named after its type (or `name`) for receiver `r`.
std::string Target(const std::string& type, const Receiver& r, const std::string& path,
                   const std::string& extra = "", const std::string& name = "") {
  return "  - type: " + type + "\n    name: " + (name.empty() ? type : name) + "\n    url: " + r.Url(path) +
         "\n" + extra;
}

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  return d;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<missing>";
  return v[key].GetString();
}

}  // namespace

TEST_CASE("notify: each target type gets a body of its shape; the webhook's signature verifies") {
  Receiver r;
  const std::string on = "    on: [failed]\n";
  Rig rig("notify:\n" + Target("webhook", r, "/webhook", on + "    secret_file: HOOK\n") +
          Target("ntfy", r, "/ntfy/podcd", on) + Target("slack", r, "/slack", on) +
          Target("discord", r, "/discord", on) + Target("gotify", r, "/gotify/message", on) +
          Target("apprise", r, "/apprise/notify", on));
  rig.Script("commit " + std::string(kCommit) + "\nweb failed health check failed: " + std::string(kSecret) +
             "\n");
  const auto record = Json(rig.Deploy());
  CHECK(Str(record, "state") == "failed");
  const std::string id = Str(record, "id");
  auto got = r.WaitFor(6);
  REQUIRE(got.size() == 6);
  std::map<std::string, Received> by_path;
  for (const auto& g : got) {
    by_path[g.path] = g;
    CHECK(g.method == "POST");
    // The webhook secret in the reason is masked; no target's secret is ever sent.
    CHECK(g.body.find(kSecret) == std::string::npos);
    CHECK(g.body.find(kHookSecret) == std::string::npos);
  }
  const Received& hook = by_path["/webhook"];
  CHECK(hook.Header("x-podcd-signature-256") ==
        "sha256=" + podcd::http::HmacSha256Hex(kHookSecret, hook.body));
  auto body = Json(hook.body);
  REQUIRE(body.IsObject());
  CHECK(hook.body.find("\"failed\"") != std::string::npos);
  CHECK(hook.body.find(id) != std::string::npos);
  CHECK(hook.body.find(std::string(kCommit)) != std::string::npos);
  CHECK(hook.body.find("health check failed") != std::string::npos);
  CHECK(hook.body.find("https://podcd.example.net/podcd/deployments/" + id) != std::string::npos);
  CHECK_FALSE(by_path["/ntfy/podcd"].body.empty());
  CHECK_FALSE(by_path["/ntfy/podcd"].Header("title").empty());
  CHECK(Str(Json(by_path["/slack"].body), "text") != "<missing>");
  CHECK(Str(Json(by_path["/discord"].body), "content") != "<missing>");
  CHECK(Str(Json(by_path["/gotify/message"].body), "message") != "<missing>");
  CHECK(Str(Json(by_path["/apprise/notify"].body), "body") != "<missing>");
  CHECK(rig.WaitMetric("podcd_notifications_total{target=\"webhook\",result=\"sent\"}", 1) == 1);
}

TEST_CASE("notify: a stack failing three times in a row is told once, then its recovery once") {
  Receiver r;
  Rig rig("notify:\n" + Target("webhook", r, "/hook"));
  rig.Script("commit " + std::string(kCommit) + "\nweb failed health check failed\n");
  for (int i = 0; i < 3; ++i) CHECK(Str(Json(rig.Deploy()), "state") == "failed");
  rig.Script("commit " + std::string(kCommit) + "\nweb updated\n");
  CHECK(Str(Json(rig.Deploy()), "state") == "succeeded");
  auto got = r.WaitFor(2);
  // Time for a wrongly repeated notice to arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  got = r.Requests();
  REQUIRE(got.size() == 2);
  CHECK(got[0].body.find("\"failed\"") != std::string::npos);
  CHECK(got[1].body.find("\"recovered\"") != std::string::npos);
  // A restart neither repeats the failure nor forgets what was told.
  CHECK(std::filesystem::exists(rig.dir / "state/notify.json"));
}

TEST_CASE("notify: a receiver that hangs or is down delays no deployment and changes no outcome") {
  Receiver hang(Receiver::Mode::kHang);
  Receiver error(Receiver::Mode::kError);
  const std::string on = "    on: [succeeded]\n";
  Rig rig("notify:\n" + Target("webhook", hang, "/hang", on, "hangs") +
          "  - type: webhook\n    name: down\n    url: " + Receiver::Down() + "\n" + on +
          Target("slack", error, "/error", on, "errors"));
  // The bounds sit below one hanging try (5 s), so they fail if a deployment waits on a notice.
  const auto start = std::chrono::steady_clock::now();
  const auto record = Json(rig.Deploy());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
  CHECK(Str(record, "state") == "succeeded");
  // A second deployment right after is not held up by the first one's notices either.
  const auto again = std::chrono::steady_clock::now();
  CHECK(Str(Json(rig.Deploy()), "state") == "succeeded");
  CHECK(std::chrono::steady_clock::now() - again < std::chrono::seconds(4));
  // Three tries each (5 s for one that hangs), then the metric and a log line say so.
  CHECK(rig.WaitMetric("podcd_notifications_total{target=\"hangs\",result=\"failed\"}", 1,
                       std::chrono::seconds(40)) >= 1);
  CHECK(rig.WaitMetric("podcd_notifications_total{target=\"down\",result=\"failed\"}", 1) >= 1);
  CHECK(rig.WaitMetric("podcd_notifications_total{target=\"errors\",result=\"failed\"}", 1) >= 1);
  CHECK(error.Requests().size() >= 3);
  const std::string log = rig.daemon->Log();
  CHECK(log.find("notification not sent target=errors status=500") != std::string::npos);
  CHECK(log.find("notification not sent target=down error=") != std::string::npos);
  CHECK(log.find("/down") == std::string::npos);  // never the URL
}

TEST_CASE("notify: a SIGHUP changes the targets for the next deployment") {
  Receiver r;
  Rig rig("");
  CHECK(Str(Json(rig.Deploy()), "state") == "succeeded");
  std::ifstream in(rig.dir / "podcd.yml");
  const std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rig.dir.Write("podcd.yml", yaml + "notify:\n" + Target("webhook", r, "/hook", "    on: [succeeded]\n"));
  rig.daemon->Signal(SIGHUP);
  REQUIRE(rig.daemon->WaitForLog("SIGHUP: configuration reloaded"));
  // The reload queues a reconcile of its own (the file changed): one notice each.
  CHECK(Str(Json(rig.Deploy()), "state") == "succeeded");
  auto got = r.WaitFor(1);
  REQUIRE_FALSE(got.empty());
  CHECK(got[0].body.find("\"succeeded\"") != std::string::npos);
}

namespace {

struct ForgeCase {
  const char* type;
  const char* api_path;     // appended to the receiver's URL for forge.api_url
  const char* status_path;  // where the statuses go
  const char* auth_header;  // lower-cased
  const char* pending;
  const char* success;
  const char* failure;
};

}  // namespace

TEST_CASE("forge: statuses go pending, then success or failure, on the deployed commit") {
  const ForgeCase cases[] = {
      {"github", "", "/repos/acme/env/statuses/", "authorization", "pending", "success", "failure"},
      {"gitea", "/api/v1", "/api/v1/repos/acme/env/statuses/", "authorization", "pending", "success",
       "failure"},
      {"gitlab", "/api/v4", "/api/v4/projects/acme%2Fenv/statuses/", "private-token", "running", "success",
       "failed"},
  };
  for (const auto& c : cases) {
    INFO(c.type);
    Receiver r;
    Rig rig(std::string("forge:\n  type: ") + c.type + "\n  api_url: " + r.Url(c.api_path) +
            "\n  repository: acme/env\n  token_file: TOKEN\n");
    // Two stacks the plan changes, each started in turn; one the plan leaves alone.
    rig.Script("commit " + std::string(kCommit) +
               "\nstart web\nweb updated\ndb unchanged\nstart app\napp failed health check failed\n");
    CHECK(Str(Json(rig.Deploy()), "state") == "failed");
    auto got = r.WaitFor(6);
    REQUIRE(got.size() == 6);
    std::map<std::string, std::vector<std::string>> states;  // context -> states in order
    std::vector<std::string> order;                          // "context state", as received
    for (const auto& g : got) {
      CHECK(g.method == "POST");
      CHECK(g.path == std::string(c.status_path) + std::string(kCommit));
      CHECK(g.Header(c.auth_header).find("forge-token-canary-91c2") != std::string::npos);
      auto body = Json(g.body);
      std::string context = Str(body, "context");
      if (context == "<missing>") context = Str(body, "name");
      states[context].push_back(Str(body, "state"));
      order.push_back(context + " " + Str(body, "state"));
      CHECK(Str(body, "target_url").find("https://podcd.example.net/podcd/deployments/") == 0);
    }
    // The overall context waits from the run's first stack to its end; each stack waits from
    // its own start (web's, then app's) to the run's end; db, unchanged, is never shown.
    CHECK(states["podcd"] == std::vector<std::string>{c.pending, c.failure});
    CHECK(states["podcd/web"] == std::vector<std::string>{c.pending, c.success});
    CHECK(states["podcd/app"] == std::vector<std::string>{c.pending, c.failure});
    CHECK_FALSE(states.contains("podcd/db"));
    const auto at = [&order](const std::string& what) {
      return std::find(order.begin(), order.end(), what) - order.begin();
    };
    CHECK(at("podcd " + std::string(c.pending)) < at("podcd/web " + std::string(c.pending)));
    CHECK(at("podcd/web " + std::string(c.pending)) < at("podcd/app " + std::string(c.pending)));
    CHECK(at("podcd/app " + std::string(c.pending)) < at("podcd/web " + std::string(c.success)));
    CHECK(at("podcd/app " + std::string(c.failure)) < at("podcd " + std::string(c.failure)));
  }
}
