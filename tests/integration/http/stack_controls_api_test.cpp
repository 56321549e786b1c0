// POST /actions/{suspend,resume,pin,unpin}/<stack> on the real Pistache server: the answers,
// the controls file they change, the deployments they queue, and GET /stacks.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <memory>

#include "http/server.hpp"
#include "http/stack_controls_api.hpp"
#include "state/controls.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "util/guarded.hpp"
#include "util/strings.hpp"

using namespace podcd;
using podcd::test::Call;
using podcd::test::HttpResult;

namespace {

// Records the triggers it is given; every run succeeds.
class RecordingExecutor final : public reconcile::Executor {
 public:
  Expected<void> Run(const state::Trigger& trigger, reconcile::RunContext&) override {
    auto t = triggers.Lock();
    t->push_back(trigger);
    return {};
  }
  Guarded<std::vector<state::Trigger>> triggers;
};

const std::string kCommitA(40, 'a');

struct ControlsHarness {
  ControlsHarness() {
    std::filesystem::create_directories(dir.path() / "repo/services/web");
    std::filesystem::create_directories(dir.path() / "repo/services/db");
    auto s = state::Store::Open(dir.path() / "state");
    REQUIRE(s);
    store = std::move(*s);
    queue = std::make_unique<reconcile::WorkQueue>(*store, exec, 8);
    catalog = std::make_unique<http::DirectoryCatalog>((dir.path() / "repo/services").string());
    http::ServerOptions o;
    o.secret = "a-secret-of-some-length";
    o.state_dir = (dir.path() / "state").string();
    server = std::make_unique<http::Server>(o, *store, *queue, *catalog);
    queue->Start();
    REQUIRE(server->Start());
    base = "http://127.0.0.1:" + std::to_string(server->Port());
  }
  ~ControlsHarness() {
    server->Shutdown(std::chrono::seconds(5));
    server.reset();
    queue.reset();
  }
  HttpResult Post(const std::string& path, const std::string& body = "",
                  std::vector<std::string> headers = {"Content-Type: application/json"}) {
    return Call("POST", base + path, headers, body);
  }
  // A finished deployment in the history, with one stack outcome.
  std::string Record(state::DeploymentState st, const std::string& stack, const std::string& outcome,
                     const std::string& commit = kCommitA) {
    state::Deployment d;
    d.id = store->NewId();
    d.state = st;
    d.commit = commit;
    d.stacks = {{stack, outcome, "", 10}};
    REQUIRE(store->Save(d));
    return d.id;
  }
  state::StackControls Controls() {
    auto c = state::ReadStackControls(state::StackControlsPath(dir.path() / "state"));
    REQUIRE(c);
    return *c;
  }

  test::TempDir dir;
  RecordingExecutor exec;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<reconcile::WorkQueue> queue;
  std::unique_ptr<http::DirectoryCatalog> catalog;
  std::unique_ptr<http::Server> server;
  std::string base;
};

rapidjson::Document Json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  return d;
}

}  // namespace

TEST_CASE("POST /actions/suspend and /actions/resume: 200 with the control, kept in the file") {
  ControlsHarness h;
  auto r = h.Post("/actions/suspend/web", R"({"note":"disk full"})");
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto d = Json(r.body);
  CHECK(std::string(d["stack"].GetString()) == "web");
  CHECK(std::string(d["state"].GetString()) == "suspended");
  CHECK(std::string(d["suspended"]["by"].GetString()) == "loopback");
  CHECK(std::string(d["suspended"]["note"].GetString()) == "disk full");
  CHECK(d["pinned"].IsNull());
  REQUIRE(h.Controls().at("web").suspended);
  // Again: the first suspension (who, when, note) stays.
  r = h.Post("/actions/suspend/web", R"({"note":"other"})");
  CHECK(r.status == 200);
  CHECK(h.Controls().at("web").suspended->note == "disk full");

  r = h.Post("/actions/resume/web");
  REQUIRE(r.status == 200);
  CHECK(Json(r.body)["state"] == "active");
  CHECK(h.Controls().empty());

  CHECK(h.Post("/actions/suspend/nope").status == 404);
  CHECK(h.Post("/actions/suspend/Bad%20Name").status == 400);
  CHECK(h.Post("/actions/suspend/web", "[1]").status == 400);
  CHECK(Call("GET", h.base + "/actions/suspend/web", {}).status == 405);
  CHECK(h.exec.triggers.Lock()->empty());  // suspend and resume deploy nothing
}

TEST_CASE(
    "POST /actions/pin: only to a successful deployment of that stack; pin and unpin queue a deployment") {
  ControlsHarness h;
  const std::string good = h.Record(state::DeploymentState::kSucceeded, "web", "updated");
  const std::string failed = h.Record(state::DeploymentState::kFailed, "web", "rolled-back");
  const std::string other = h.Record(state::DeploymentState::kSucceeded, "db", "updated");
  const std::string web_failed_in_ok_run = h.Record(state::DeploymentState::kSucceeded, "web", "backoff");

  for (const auto& [id, why] :
       {std::pair{failed, "is failed, not succeeded"}, std::pair{other, "did not deploy stack web"},
        std::pair{web_failed_in_ok_run, "its outcome there: backoff"},
        std::pair{std::string("20991231-000000-000001"), "no deployment"}}) {
    auto r = h.Post("/actions/pin/web", R"({"deployment":")" + id + R"("})");
    INFO(id << " " << r.body);
    CHECK(r.status == 422);
    CHECK(r.body.find(why) != std::string::npos);
  }
  CHECK(h.Post("/actions/pin/web", "{}").status == 400);
  CHECK(h.Controls().empty());

  // A form post (as a page sends it) with the CSRF field beside.
  auto r = h.Post("/actions/pin/web", "csrf=x&deployment=" + good,
                  {"Content-Type: application/x-www-form-urlencoded"});
  INFO(r.body);
  REQUIRE(r.status == 202);
  auto d = Json(r.body);
  const std::string queued = d["deployment"].GetString();
  CHECK(std::string(d["status"].GetString()) == "queued");
  CHECK(std::string(d["control"]["state"].GetString()) == "pinned");
  CHECK(std::string(d["control"]["pinned"]["commit"].GetString()) == kCommitA);
  CHECK(std::string(d["control"]["pinned"]["deployment"].GetString()) == good);
  REQUIRE(h.queue->Wait(queued, std::chrono::seconds(30)));
  {
    auto t = h.exec.triggers.Lock();
    REQUIRE(t->size() == 1);
    CHECK(t->back().stacks == std::vector<std::string>{"web"});
  }
  CHECK(h.Controls().at("web").pinned->commit == kCommitA);

  r = h.Post("/actions/unpin/web");
  REQUIRE(r.status == 202);
  REQUIRE(h.queue->Wait(Json(r.body)["deployment"].GetString(), std::chrono::seconds(30)));
  CHECK(h.exec.triggers.Lock()->size() == 2);
  CHECK(h.Controls().empty());
  // Unpinning what is not pinned deploys nothing.
  r = h.Post("/actions/unpin/web");
  CHECK(r.status == 200);
  CHECK(h.exec.triggers.Lock()->size() == 2);
}

TEST_CASE("pinning to a deployment that ran the stack pinned takes the pinned commit") {
  state::Deployment d;
  d.id = "20261202-140000-000001";
  d.state = state::DeploymentState::kSucceeded;
  d.commit = std::string(40, 'b');
  d.stacks = {{"web", "unchanged", "pinned to commit " + kCommitA, 0}};
  auto c = http::PinnableCommit(d, "web");
  REQUIRE(c);
  CHECK(*c == kCommitA);
}

TEST_CASE("a damaged controls file: the actions answer 500 and leave it as it was") {
  ControlsHarness h;
  const auto path = state::StackControlsPath(h.dir.path() / "state");
  h.dir.Write("state/stack-controls.json", "{not json");
  CHECK(h.Post("/actions/suspend/web").status == 500);
  CHECK(h.Post("/actions/resume/web").status == 500);
  CHECK(*ReadFile(path) == "{not json");
}
