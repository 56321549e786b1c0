// The dashboard's diff of a stack's plan: fields with old and new values where podcd knows
// them, unknown ones left unknown, secrets masked, other reasons kept as they are.
#include "worker/plan_changes.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

using namespace podcd;

namespace {

core::ActualContainer Container(std::string service, std::string image, bool running = true) {
  core::ActualContainer c;
  c.id = "id-" + service;
  c.name = "web_" + service + "_1";
  c.stack = "web";
  c.service = std::move(service);
  c.running = running;
  c.status = running ? "running" : "exited";
  c.health = running ? "healthy" : "";
  c.image = std::move(image);
  return c;
}

}  // namespace

TEST_CASE("plan changes: a field's old and new value where podcd knows them, else unknown") {
  log::ClearSecretsForTest();
  log::AddSecret("hunter2-registry");
  core::StackPlan plan;
  plan.name = "web";
  plan.action = core::Action::kRecreate;
  core::ServicePlan app{"app",
                        core::Action::kRecreate,
                        {"environment.API_TOKEN changed", "environment.MODE changed", "image changed",
                         "labels.x removed", "file services/web/nginx.conf added"},
                        {"id-app"}};
  core::ServicePlan db{"db", core::Action::kCreate, {"no container"}, {}};
  plan.services = {app, db};
  plan.reasons = {"app: image changed", "db: no container",
                  "1 leftover container of an interrupted deployment"};
  std::map<std::string, core::CanonicalFields> desired{
      {"app",
       {{"image", "\"nginx:1.27\""},
        {"environment.API_TOKEN", "\"abc123\""},
        {"environment.MODE", "\"pw=hunter2-registry\""},
        {"file services/web/nginx.conf", "regular 0123abcd"}}}};
  std::vector<core::ActualContainer> actual{Container("app", "docker.io/library/nginx:1.25")};

  auto changes = worker::PlanChanges(plan, desired, actual);
  REQUIRE(changes.size() == 7);
  CHECK(changes[0].service == "app");
  CHECK(changes[0].field == "environment.API_TOKEN");
  CHECK(changes[0].new_value == "***");  // the name suggests a secret
  CHECK_FALSE(changes[0].old_value.has_value());
  CHECK(changes[1].field == "environment.MODE");
  CHECK(changes[1].new_value == "pw=***");        // a registered secret, masked
  CHECK_FALSE(changes[1].old_value.has_value());  // a container keeps only a hash
  CHECK(changes[2].field == "image");
  CHECK(changes[2].old_value == "docker.io/library/nginx:1.25");
  CHECK(changes[2].new_value == "nginx:1.27");  // without the canonical form's quotes
  CHECK(changes[3].field == "labels.x");
  CHECK(changes[3].change == "removed");
  CHECK_FALSE(changes[3].new_value.has_value());
  CHECK(changes[4].field == "file services/web/nginx.conf");
  CHECK(changes[4].change == "added");
  CHECK(changes[4].new_value == "regular 0123abcd");
  CHECK(changes[5].service == "db");
  CHECK(changes[5].field.empty());
  CHECK(changes[5].change == "no container");
  // A stack-level reason (not repeated from a service) comes once, without a service.
  CHECK(changes[6].service.empty());
  CHECK(changes[6].change == "1 leftover container of an interrupted deployment");
  log::ClearSecretsForTest();
}

TEST_CASE("plan changes: a stack that did not load has its problems as reasons; values are cut") {
  core::StackPlan bad;
  bad.name = "web";
  bad.action = core::Action::kInvalid;
  bad.reasons = {"compose.yaml:3:5: unknown key \"imagee\""};
  auto changes = worker::PlanChanges(bad, {}, {});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].change == "compose.yaml:3:5: unknown key \"imagee\"");

  core::StackPlan plan;
  plan.name = "web";
  plan.services = {{"app", core::Action::kRecreate, {"command changed", "environment changed"}, {}}};
  std::map<std::string, core::CanonicalFields> desired{
      {"app", {{"command", std::string(1000, 'x')}, {"environment", "{3}"}}}};
  auto cut = worker::PlanChanges(plan, desired, {});
  REQUIRE(cut.size() == 2);
  CHECK(cut[1].new_value == "3 entries");  // a map field's own entry counts its keys
  REQUIRE(cut[0].new_value);
  CHECK(cut[0].new_value->size() < 310);
  CHECK(cut[0].new_value->ends_with("…"));
}

TEST_CASE("plan changes: each service's container, the running one first") {
  core::StackPlan plan;
  plan.name = "web";
  plan.services = {{"app", core::Action::kUnchanged, {}, {}},
                   {"db", core::Action::kCreate, {"no container"}, {}}};
  auto old = Container("app", "nginx:1.24", false);
  old.name = "web_app_old";
  auto temp = Container("app", "nginx:1.26");
  temp.temporary = true;
  auto services = worker::ServicesOf(plan, {old, temp, Container("app", "nginx:1.25")});
  REQUIRE(services.size() == 2);
  CHECK(services[0].container == "web_app_1");
  CHECK(services[0].status == "running");
  CHECK(services[0].health == "healthy");
  CHECK(services[0].image == "nginx:1.25");
  CHECK(services[1].name == "db");
  CHECK(services[1].container.empty());
}

TEST_CASE("plan changes: old values from what the stack's last deployment recorded") {
  log::ClearSecretsForTest();
  log::AddSecret("hunter2-registry");
  core::Stack stack;
  stack.name = "web";
  core::Service app;
  app.name = "app";
  app.image = "nginx:1.25";
  app.environment = {{"MODE", "pw=hunter2-registry"}, {"DB_PASSWORD", "swordfish"}, {"LEVEL", "1"}};
  stack.services = {app};
  // What a run records after the stack applied: shown values, masked before they are stored.
  const reconcile::DeployedFields recorded = reconcile::ShownFields(stack);
  REQUIRE(recorded.contains("app"));
  CHECK(recorded.at("app").at("environment.MODE") == "pw=***");
  CHECK(recorded.at("app").at("environment.DB_PASSWORD") == "***");
  test::TempDir dir;
  REQUIRE(reconcile::WriteDeployed(dir.path(), "web", {recorded, std::string(40, 'c')}));
  REQUIRE(reconcile::WriteDeployed(dir.path(), "api", {recorded, ""}));
  const std::string stored = *ReadFile(reconcile::DeployedFieldsPath(dir.path(), "web"));
  CHECK(stored.find("hunter2") == std::string::npos);
  CHECK(stored.find("swordfish") == std::string::npos);
  const auto read = reconcile::ReadDeployed(dir.path(), "web").services;
  CHECK(read == recorded);
  CHECK(reconcile::ReadDeployed(dir.path(), "other") == reconcile::Deployed{});
  CHECK(reconcile::PinnedCommitsInUse(dir.path()) == std::set<std::string>{std::string(40, 'c')});

  core::StackPlan plan;
  plan.name = "web";
  plan.services = {{"app",
                    core::Action::kRecreate,
                    {"environment.LEVEL changed", "environment.NEW added", "environment.MODE removed"},
                    {"id-app"}}};
  std::map<std::string, core::CanonicalFields> desired{
      {"app", {{"environment.LEVEL", "\"2\""}, {"environment.NEW", "\"x\""}}}};
  auto changes = worker::PlanChanges(plan, desired, {Container("app", "nginx:1.25")}, read);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].old_value == "1");
  CHECK(changes[0].new_value == "2");
  CHECK_FALSE(changes[1].old_value.has_value());  // added: there was none
  CHECK(changes[2].old_value == "pw=***");
  CHECK_FALSE(changes[2].new_value.has_value());
  reconcile::RemoveDeployed(dir.path(), "web");
  CHECK(reconcile::ReadDeployed(dir.path(), "web").services.empty());
  CHECK(reconcile::PinnedCommitsInUse(dir.path()).empty());
  log::ClearSecretsForTest();
}
