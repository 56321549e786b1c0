// The actions' routes on the real Pistache server: each queues its trigger (kind, stacks,
// pull, force, actor), a body may be empty, JSON or a form, bad names and stacks are refused,
// and the API's access rule applies (issue 14).
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "http/server.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using podcd::test::Call;
using podcd::test::HttpResult;

namespace {

class Succeeding final : public reconcile::Executor {
 public:
  Expected<void> Run(const state::Trigger&, reconcile::RunContext&) override { return {}; }
};

struct Rig {
  explicit Rig(std::string api_token = "") {
    std::filesystem::create_directories(dir.path() / "repo/services/web");
    auto s = state::Store::Open(dir.path() / "state");
    REQUIRE(s);
    store = std::move(*s);
    queue = std::make_unique<reconcile::WorkQueue>(*store, exec, 8);
    catalog = std::make_unique<http::DirectoryCatalog>((dir.path() / "repo/services").string());
    http::ServerOptions o;
    o.secret = "a-webhook-secret-of-some-length";
    o.api_token = std::move(api_token);
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<http::Server>(o, *store, *queue, *catalog, nullptr);
    queue->Start();
    REQUIRE(server->Start());
    base = "http://127.0.0.1:" + std::to_string(server->Port());
  }
  ~Rig() {
    server->Shutdown(std::chrono::seconds(5));
    server.reset();
    queue.reset();
  }
  HttpResult Post(const std::string& path, const std::string& body = "",
                  std::vector<std::string> headers = {}) {
    return Call("POST", base + path, headers, body);
  }
  // The record of the deployment a 202 or a ?wait= answer names.
  state::Deployment Record(const HttpResult& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    REQUIRE(d.IsObject());
    const char* key = d.HasMember("deployment") ? "deployment" : "id";
    REQUIRE(d[key].IsString());
    auto rec = queue->Wait(d[key].GetString(), std::chrono::seconds(30));
    REQUIRE(rec);
    return *rec;
  }

  test::TempDir dir;
  Succeeding exec;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<reconcile::WorkQueue> queue;
  std::unique_ptr<http::DirectoryCatalog> catalog;
  std::unique_ptr<http::Server> server;
  std::string base;
};

}  // namespace

TEST_CASE("actions: each route queues its trigger, named for its actor") {
  Rig s;
  auto all = s.Post("/actions/deploy-all-changed");
  REQUIRE(all.status == 202);
  auto rec = s.Record(all);
  CHECK(rec.trigger.kind == state::TriggerKind::kDeployAllChanged);
  CHECK(rec.trigger.all_changed);
  CHECK(rec.trigger.actor == "loopback");

  auto sync = s.Post("/actions/sync?wait=30", "{}", {"Content-Type: application/json"});
  REQUIRE(sync.status == 200);
  rec = s.Record(sync);
  CHECK(rec.trigger.kind == state::TriggerKind::kSync);
  CHECK(rec.state == state::DeploymentState::kSucceeded);

  auto redeploy =
      s.Post("/actions/redeploy/web", "csrf=abc", {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE(redeploy.status == 202);
  rec = s.Record(redeploy);
  CHECK(rec.trigger.kind == state::TriggerKind::kRedeployAndUpdate);
  CHECK(rec.trigger.stacks == std::vector<std::string>{"web"});
  CHECK(rec.trigger.pull);
  CHECK_FALSE(rec.trigger.force);

  auto recreate = s.Post("/actions/recreate/web", R"({"csrf":"x"})", {"Content-Type: application/json"});
  REQUIRE(recreate.status == 202);
  rec = s.Record(recreate);
  CHECK(rec.trigger.kind == state::TriggerKind::kDeploy);
  CHECK(rec.trigger.stacks == std::vector<std::string>{"web"});
  CHECK(rec.trigger.force);
  CHECK_FALSE(rec.trigger.pull);

  // POST /deploy takes force too (podcd deploy --force-recreate).
  auto deploy = s.Post("/deploy", R"({"stacks":["web"],"force":true})");
  REQUIRE(deploy.status == 202);
  CHECK(s.Record(deploy).trigger.force);
  CHECK(s.Post("/deploy", R"({"all_changed":true,"force":true})").status == 400);
}

TEST_CASE("actions: unknown and bad stacks, bad bodies and wrong methods are refused") {
  Rig s;
  CHECK(s.Post("/actions/recreate/nosuch").status == 404);
  CHECK(s.Post("/actions/redeploy/Web").status == 400);
  CHECK(s.Post("/actions/redeploy/").status == 400);
  CHECK(s.Post("/actions/recreate/web/x").status == 400);
  CHECK(s.Post("/actions/sync", "{", {"Content-Type: application/json"}).status == 400);
  CHECK(s.Post("/actions/sync", R"({"stacks":["web"]})").status == 400);
  CHECK(s.Post("/actions/sync", "now", {"Content-Type: text/plain"}).status == 400);
  CHECK(Call("GET", s.base + "/actions/sync", {}).status == 405);
  CHECK(s.Post("/actions/nosuch").status == 404);
  CHECK(s.store->List(10).empty());  // none of them queued anything
}

TEST_CASE("actions: with api.token set, the bearer token is required and the actor is api-token") {
  Rig s("an-api-token-of-enough-length");
  CHECK(s.Post("/actions/sync").status == 401);
  CHECK(s.Post("/actions/recreate/web", "", {"Authorization: Bearer wrong"}).status == 401);
  auto ok = s.Post("/actions/recreate/web", "", {"Authorization: Bearer an-api-token-of-enough-length"});
  REQUIRE(ok.status == 202);
  CHECK(s.Record(ok).trigger.actor == "api-token");
}
