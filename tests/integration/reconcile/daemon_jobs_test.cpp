// `podcd serve` and its worker jobs against real Podman and git: a job past its time limit
// fails its deployment with that reason while the daemon answers on; a poll repairs drift.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "e2e_fixture.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

std::string JobsHttpd() {
  return "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n";
}

std::string Field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A git remote on loopback that accepts connections and never answers: a fetch from it hangs
// until someone gives up.
class SilentRemote {
 public:
  SilentRemote() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
          const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) held_.push_back(c);  // held open, never read, never answered
        }
      }
    });
  }
  ~SilentRemote() {
    stop_ = true;
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  SilentRemote(const SilentRemote&) = delete;
  SilentRemote& operator=(const SilentRemote&) = delete;
  [[nodiscard]] std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/env.git"; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

// The rig's configuration with `url` as the remote and `extra` appended, as jobs.yml.
std::filesystem::path JobsConfig(Rig& rig, const std::string& url, const std::string& extra) {
  std::string text = *ReadFile(rig.dir() / "podcd.yml");
  text = std::regex_replace(text, std::regex("url: [^\n]*"), "url: " + url);
  const auto path = rig.dir() / "jobs.yml";
  std::ofstream(path) << text << extra;
  return path;
}

// Waits (at most `limit`) until the deployment is finished; returns its record.
std::string WaitFinished(Daemon& d, const std::string& id, std::chrono::seconds limit) {
  std::string record;
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    record = Call("GET", d.Url("/deployments/" + id)).body;
    const auto state = Field(record, "state");
    if (state == "succeeded" || state == "failed" || state == "superseded") break;
    std::this_thread::sleep_for(100ms);
  }
  return record;
}

}  // namespace

TEST_CASE(
    "a worker past its time limit fails its deployment with that reason; the daemon answers on; "
    "the next trigger runs",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("limit");
  rig.Commit({{"services/" + stack + "/compose.yml", "services:\n  web:\n" + JobsHttpd()}}, "web");
  const std::string good_url = "file://" + (rig.dir() / "remote.git").string();
  SilentRemote silent;
  // The sync would wait a minute for the silent remote; the job may take 3 s.
  const std::string limits = "worker:\n  timeout: 3s\npoll:\n  interval: 0\n";
  auto config = JobsConfig(rig, silent.Url(), limits);
  std::string text = *ReadFile(config);
  // The silent remote speaks http://, which is refused without repo.allow_insecure.
  text = std::regex_replace(text, std::regex("  branch: main\n"),
                            "  branch: main\n  sync_timeout: 60s\n  allow_insecure: true\n");
  std::ofstream(config) << text;
  Daemon d(config, rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(d.Log());
  REQUIRE(d.port() != 0);

  // The start-up reconcile hangs in its sync; a trigger queues behind it.
  auto queued = Call("POST", d.Url("/deploy"), {}, R"({"all_changed":true})");
  REQUIRE(queued.status == 202);
  const std::string second = Field(queued.body, "deployment");
  auto list = Call("GET", d.Url("/deployments?limit=2"));
  std::smatch m;
  REQUIRE(std::regex_search(list.body, m,
                            std::regex("\"id\":\"([^\"]+)\",\"trigger\":\\{[^}]*\"event\":\"startup\"")));
  const std::string first = m[1];
  // The daemon answers while its worker hangs.
  const auto asked = std::chrono::steady_clock::now();
  auto health = Call("GET", d.Url("/health"), {}, "", 20);
  CHECK(health.status != 0);
  CHECK(std::chrono::steady_clock::now() - asked < 10s);
  CHECK(Field(Call("GET", d.Url("/deployments/" + first)).body, "state") == "running");

  for (const auto& id : {first, second}) {
    const std::string record = WaitFinished(d, id, 30s);
    INFO(record);
    CHECK(Field(record, "state") == "failed");
    CHECK(Has(Field(record, "reason"), "worker exceeded its time limit (3s, worker.timeout)"));
  }
  CHECK(d.Running());
  CHECK(rig.Ids(stack).empty());

  // The next trigger (a reload that names the real remote) runs and deploys.
  JobsConfig(rig, good_url, limits);
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: the configuration changed; reconcile queued"));
  std::smatch hup;
  const std::string log = d.Log();
  REQUIRE(
      std::regex_search(log, hup, std::regex("configuration changed; reconcile queued deployment=(\\S+)")));
  const std::string record = WaitFinished(d, hup[1], 120s);
  INFO(record);
  CHECK(Field(record, "state") == "succeeded");
  const auto ids = rig.Ids(stack);
  REQUIRE(ids.size() == 1);
  CHECK(rig.Running(ids.at("web")));
  CHECK(d.Terminate() == 0);
}

TEST_CASE("a poll repairs drift without a push: a container removed by hand comes back", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("poll");
  rig.Commit({{"services/" + stack + "/compose.yml", "services:\n  web:\n" + JobsHttpd()}}, "web");
  auto config = JobsConfig(rig, "file://" + (rig.dir() / "remote.git").string(),
                           "poll:\n  interval: 10s\n  jitter: 0s\n");
  Daemon d(config, rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(d.Log());
  REQUIRE(d.port() != 0);
  std::map<std::string, std::string> ids;
  for (int i = 0; i < 600 && ids.size() != 1; ++i) {
    ids = rig.Ids(stack);
    if (ids.size() != 1) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(ids.size() == 1);
  for (int i = 0; i < 600 && !rig.Running(ids.at("web")); ++i) std::this_thread::sleep_for(100ms);
  // Removed by hand, nothing pushed.
  REQUIRE(rig.client().RemoveContainer(ids.at("web"), true, std::chrono::seconds(0)));
  std::map<std::string, std::string> back;
  for (int i = 0; i < 1800; ++i) {  // a poll every 10 s; three minutes at most (ASan, a loaded machine)
    back = rig.Ids(stack);
    if (back.size() == 1 && back.at("web") != ids.at("web") && rig.Running(back.at("web"))) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(back.size() == 1);
  CHECK(back.at("web") != ids.at("web"));
  CHECK(rig.Running(back.at("web")));
  // The container runs before the poll's deployment ends (it verifies what it claims after the
  // start), so wait for each poll deployment to finish before reading its state.
  auto list = Call("GET", d.Url("/deployments?limit=5"));
  INFO(list.body);
  const std::regex poll_id("\"id\":\"([^\"]+)\",\"trigger\":\\{\"kind\":\"poll\"");
  bool repaired = false;
  for (auto it = std::sregex_iterator(list.body.begin(), list.body.end(), poll_id);
       it != std::sregex_iterator(); ++it) {
    const std::string record = WaitFinished(d, (*it)[1], 120s);
    INFO(record);
    if (Field(record, "state") == "succeeded" && Has(record, "\"outcome\":\"updated\"")) repaired = true;
  }
  CHECK(repaired);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("the daemon's workers act on the actions: a force recreate replaces, a sync only plans", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("actions");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, "services:\n  web:\n" + JobsHttpd()}}, "web");
  auto config = JobsConfig(rig, "file://" + (rig.dir() / "remote.git").string(), "");
  Daemon d(config, rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(d.Log());
  REQUIRE(d.port() != 0);
  std::map<std::string, std::string> ids;
  for (int i = 0; i < 600 && ids.size() != 1; ++i) {
    ids = rig.Ids(stack);
    if (ids.size() != 1) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(ids.size() == 1);

  // Queued behind the startup reconcile, if it still runs; ?wait= answers with the record.
  auto forced = Call("POST", d.Url("/actions/recreate/" + stack + "?wait=240"), {}, "", 300);
  INFO(forced.body);
  REQUIRE(forced.status == 200);
  CHECK(Field(forced.body, "state") == "succeeded");
  CHECK(Has(forced.body, "\"force\":true"));
  CHECK(Field(forced.body, "actor") == "loopback");
  CHECK(Has(forced.body, "\"outcome\":\"updated\""));
  const auto after = rig.Ids(stack);
  REQUIRE(after.size() == 1);
  CHECK(after.at("web") != ids.at("web"));
  CHECK(rig.Running(after.at("web")));

  rig.Commit({{file, "services:\n  web:\n" + JobsHttpd() + "    environment: [X=2]\n"}}, "X=2");
  auto sync = Call("POST", d.Url("/actions/sync?wait=240"), {}, "", 300);
  INFO(sync.body);
  REQUIRE(sync.status == 200);
  CHECK(Field(sync.body, "state") == "succeeded");
  CHECK(Field(sync.body, "kind") == "sync");
  CHECK(Has(sync.body, "\"outcome\":\"would-update\""));
  CHECK(Has(sync.body, "environment.X"));
  CHECK(rig.Ids(stack) == after);
  CHECK(rig.Running(after.at("web")));
  CHECK(d.Terminate() == 0);
}

TEST_CASE("the dashboard says when the remote is ahead (a push without a webhook), until a sync", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("ahead");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, "services:\n  web:\n" + JobsHttpd()}}, "web");
  auto config = JobsConfig(rig, "file://" + (rig.dir() / "remote.git").string(), "");
  Daemon d(config, rig.dir() / "serve.log",
           "PODCD_LOG_LEVEL=info PODCD_POLL_INTERVAL=0s PODCD_REPO_REMOTE_CHECK_INTERVAL=10s");
  INFO(d.Log());
  REQUIRE(d.port() != 0);
  auto metric = [&](const std::string& line) {
    return Has(Call("GET", d.Url("/metrics")).body, "\n" + line + "\n");
  };
  auto home = [&] { return Call("GET", d.Url("/"), {"Accept: text/html"}).body; };
  // The start-up deployment syncs; the checks then find the remote where the work tree is.
  for (int i = 0; i < 600 && !metric("podcd_repo_remote_ahead 0"); ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(metric("podcd_repo_remote_ahead 0"));
  CHECK_FALSE(Has(home(), "the remote is ahead"));

  rig.Commit({{file, "services:\n  web:\n" + JobsHttpd() + "    environment: [X=2]\n"}}, "X=2, no webhook");
  for (int i = 0; i < 300 && !metric("podcd_repo_remote_ahead 1"); ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(metric("podcd_repo_remote_ahead 1"));
  CHECK(Has(home(), "the remote is ahead"));

  // A sync brings the work tree to the remote: the page stops saying it at once.
  auto sync = Call("POST", d.Url("/actions/sync?wait=240"), {}, "", 300);
  REQUIRE(sync.status == 200);
  CHECK_FALSE(Has(home(), "the remote is ahead"));
  CHECK(d.Terminate() == 0);
}
