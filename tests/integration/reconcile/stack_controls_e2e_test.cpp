// Suspend and pin end to end (docs/stack-controls.md): a real git remote, the real Podman of
// scripts/testenv.sh, the engine in-process; the controls written as the daemon writes them.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "e2e_fixture.hpp"
#include "state/controls.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

// busybox httpd with VERSION in its environment, a tracked file bound read-only and a data
// directory (its contents ignored) bound read-write.
std::string Compose(const std::string& version) {
  return "services:\n"
         "  app:\n"
         "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n"
         "    environment:\n"
         "      VERSION: \"" +
         version +
         "\"\n"
         "    volumes:\n"
         "      - ./conf.txt:/conf.txt:ro\n"
         "      - ./data:/data\n";
}

std::map<std::string, std::string> Files(const std::string& stack, const std::string& version) {
  return {{"services/" + stack + "/compose.yml", Compose(version)},
          {"services/" + stack + "/conf.txt", "conf " + version + "\n"},
          {"services/" + stack + "/.gitignore", "data/*\n!data/.keep\n"},
          {"services/" + stack + "/data/.keep", ""}};
}

state::Trigger Named(const std::string& stack) {
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {stack};
  return t;
}

void Control(Rig& rig, const std::string& stack, const std::function<void(state::StackControl&)>& change) {
  state::StackControlsFile file(state::StackControlsPath(rig.state_dir()));
  auto r = file.Update(stack, [&](state::StackControl& c) -> Expected<void> {
    change(c);
    return {};
  });
  REQUIRE(r);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

// The stack's object in GET /stacks ("" when it is not there).
std::string StackJson(Daemon& d, const std::string& stack) {
  const std::string body = Call("GET", d.Url("/stacks")).body;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("stacks") || !doc["stacks"].IsArray())
    return "";
  for (const auto& s : doc["stacks"].GetArray()) {
    if (!s.IsObject() || !s.HasMember("name") || !s["name"].IsString() || s["name"].GetString() != stack)
      continue;
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    s.Accept(w);
    return out.GetString();
  }
  return "";
}

// Waits for the deployment to finish; returns its record.
std::string WaitFinished(Daemon& d, const std::string& id) {
  std::string record;
  for (int i = 0; i < 1200; ++i) {
    record = Call("GET", d.Url("/deployments/" + id)).body;
    const auto state = Field(record, "state");
    if (state == "succeeded" || state == "failed" || state == "superseded") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return record;
}

std::string DeployAll(Daemon& d) {
  auto r = Call("POST", d.Url("/deploy"), {}, R"({"all_changed":true})");
  REQUIRE(r.status == 202);
  return WaitFinished(d, Field(r.body, "deployment"));
}

}  // namespace

TEST_CASE("a suspended stack is left alone by every reconcile until resumed", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string held = rig.Stack("held");
  const std::string free = rig.Stack("free");
  auto both = Files(held, "1");
  both.merge(Files(free, "1"));
  rig.Commit(both, "both at 1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const std::string held_id = rig.Ids(held).at("app");

  Control(rig, held, [](state::StackControl& c) {
    c.suspended = state::Suspension{"api-token", state::NowMs(), "maintenance"};
  });
  auto changed = Files(held, "2");
  changed.merge(Files(free, "2"));
  rig.Commit(changed, "both at 2");

  auto all = rig.Reconcile();
  INFO(all.Describe());
  CHECK(all.Succeeded());
  REQUIRE(all.Stack(held) != nullptr);
  CHECK(all.Stack(held)->outcome == "suspended");
  CHECK(all.Stack(held)->reason.find("suspended by api-token at ") == 0);
  CHECK(all.Stack(held)->reason.find("maintenance") != std::string::npos);
  REQUIRE(all.Stack(free) != nullptr);
  CHECK(all.Stack(free)->outcome == "updated");
  CHECK(rig.Ids(held).at("app") == held_id);
  CHECK(Trimmed(rig.Exec(rig.Ids(held).at("app"), "sh -c 'echo $VERSION'").output) == "1");
  CHECK(Trimmed(rig.Exec(rig.Ids(free).at("app"), "sh -c 'echo $VERSION'").output) == "2");

  // Named, with images pulled: refused, nothing touched.
  state::Trigger named = Named(held);
  named.pull = true;
  auto refused = rig.Reconcile(named);
  INFO(refused.Describe());
  CHECK(refused.deployment.state == state::DeploymentState::kFailed);
  CHECK(refused.deployment.reason.find("stack " + held + " is suspended by api-token") != std::string::npos);
  CHECK(refused.writes == 0);
  CHECK(rig.Ids(held).at("app") == held_id);

  Control(rig, held, [](state::StackControl& c) { c.suspended.reset(); });
  auto resumed = rig.Reconcile();
  INFO(resumed.Describe());
  REQUIRE(resumed.Succeeded());
  REQUIRE(resumed.Stack(held) != nullptr);
  CHECK(resumed.Stack(held)->outcome == "updated");
  CHECK(Trimmed(rig.Exec(rig.Ids(held).at("app"), "sh -c 'echo $VERSION'").output) == "2");
}

TEST_CASE(
    "a pinned stack runs its pinned commit's files, stays there across commits, and unpinning brings the "
    "head",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("pinned");
  const std::string c1 = rig.Commit(Files(stack, "1"), "at 1");
  auto d1 = rig.Reconcile();
  INFO(d1.Describe());
  REQUIRE(d1.Succeeded());
  // The container writes its data into the ignored directory of the work tree.
  REQUIRE(rig.Exec(rig.Ids(stack).at("app"), "sh -c 'echo kept > /data/state'").exit_code == 0);

  rig.Commit(Files(stack, "2"), "at 2");
  auto d2 = rig.Reconcile();
  INFO(d2.Describe());
  REQUIRE(d2.Succeeded());
  CHECK(Trimmed(rig.Exec(rig.Ids(stack).at("app"), "sh -c 'echo $VERSION'").output) == "2");

  // Pinned to the first deployment (what POST /actions/pin writes), then deployed by name.
  Control(rig, stack, [&](state::StackControl& c) {
    c.pinned = state::Pin{d1.deployment.id, c1, "loopback", state::NowMs()};
  });
  auto pinned = rig.Reconcile(Named(stack));
  INFO(pinned.Describe());
  REQUIRE(pinned.Succeeded());
  CHECK(pinned.Stack(stack)->outcome == "updated");
  CHECK(pinned.Stack(stack)->reason.starts_with("pinned to commit " + c1));
  const std::filesystem::path tree = rig.state_dir() / "pinned" / c1;
  CHECK(std::filesystem::is_directory(tree));
  auto check_at_1 = [&] {
    const std::string id = rig.Ids(stack).at("app");
    CHECK(Trimmed(rig.Exec(id, "sh -c 'echo $VERSION'").output) == "1");
    CHECK(Trimmed(rig.Exec(id, "cat /conf.txt").output) == "conf 1");
    CHECK(Trimmed(rig.Exec(id, "cat /data/state").output) == "kept");  // the work tree's data
    for (const auto& c : rig.Containers(stack)) CHECK(Label(c, core::kLabelCommit) == c1);
  };
  check_at_1();

  // A new commit does not move it.
  rig.Commit(Files(stack, "3"), "at 3");
  auto later = rig.Reconcile();
  INFO(later.Describe());
  REQUIRE(later.Succeeded());
  CHECK(later.writes == 0);
  check_at_1();

  Control(rig, stack, [](state::StackControl& c) { c.pinned.reset(); });
  auto unpinned = rig.Reconcile(Named(stack));
  INFO(unpinned.Describe());
  REQUIRE(unpinned.Succeeded());
  const std::string id = rig.Ids(stack).at("app");
  CHECK(Trimmed(rig.Exec(id, "sh -c 'echo $VERSION'").output) == "3");
  CHECK(Trimmed(rig.Exec(id, "cat /conf.txt").output) == "conf 3");
  CHECK(Trimmed(rig.Exec(id, "cat /data/state").output) == "kept");
  // Kept while the stack's containers made from it exist (a rollback would start them again),
  // then removed by the next run: no stack pins it and none runs from it.
  CHECK(std::filesystem::is_directory(tree));
  auto after = rig.Reconcile();
  INFO(after.Describe());
  REQUIRE(after.Succeeded());
  CHECK(after.writes == 0);
  CHECK_FALSE(std::filesystem::exists(tree));
}

TEST_CASE("a pin to a commit the repository does not hold fails that stack, named", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("lost");
  rig.Commit(Files(stack, "1"), "at 1");
  Control(rig, stack, [](state::StackControl& c) {
    c.pinned = state::Pin{"20261202-000000-000001", std::string(40, 'e'), "loopback", state::NowMs()};
  });
  auto run = rig.Reconcile();
  INFO(run.Describe());
  CHECK_FALSE(run.Succeeded());
  REQUIRE(run.Stack(stack) != nullptr);
  CHECK(run.Stack(stack)->outcome == "invalid");
  CHECK(run.Stack(stack)->reason.find("pinned to eeeeeeeeeeee") != std::string::npos);
  CHECK(rig.Containers(stack).empty());
}

TEST_CASE(
    "the CLI and the daemon: suspend survives a restart, pin rolls back and stays, unpin returns to head",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("cli");
  rig.Commit(Files(stack, "1"), "at 1");
  const auto config = rig.dir() / "daemon.yml";
  std::ofstream(config) << *ReadFile(rig.config_file()) << "poll:\n  interval: 0\n";
  auto daemon = std::make_unique<Daemon>(config, rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(daemon->Log());
  REQUIRE(daemon->port() != 0);
  // The start-up reconcile deploys it: that is the deployment to pin to later.
  std::string d1;
  for (int i = 0; i < 1200 && d1.empty(); ++i) {
    const std::string st = StackJson(*daemon, stack);
    if (Field(st, "state") == "in-sync") d1 = Field(st, "last_deployment");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(d1.empty());
  auto version = [&] { return Trimmed(rig.Exec(rig.Ids(stack).at("app"), "sh -c 'echo $VERSION'").output); };
  auto cli = [&](const std::string& args) {
    auto r = RunCommand(std::string(PODCD_BINARY) + " " + args + " --server " + daemon->Url(""));
    return r;
  };

  rig.Commit(Files(stack, "2"), "at 2");
  CHECK(Field(DeployAll(*daemon), "state") == "succeeded");
  CHECK(version() == "2");

  auto suspended = cli("suspend " + stack + " --note 'cli test'");
  CHECK(suspended.exit_code == 0);
  CHECK(suspended.output.find("stack " + stack + ": suspended") != std::string::npos);
  CHECK(Field(StackJson(*daemon, stack), "state") == "suspended");
  auto status = cli("status");
  CHECK(status.output.find("!! " + stack + " is SUSPENDED by loopback") != std::string::npos);
  CHECK(status.output.find("(note: cli test)") != std::string::npos);

  rig.Commit(Files(stack, "3"), "at 3");
  const std::string all = DeployAll(*daemon);
  INFO(all);
  CHECK(Field(all, "state") == "succeeded");
  CHECK(all.find(R"("name":")" + stack + R"(","outcome":"suspended","reason":"suspended by loopback)") !=
        std::string::npos);
  CHECK(version() == "2");
  // Named: refused, recorded as a failed deployment (one a pin refuses later).
  auto named = Call("POST", daemon->Url("/deploy"), {}, R"({"stacks":[")" + stack + R"("]})");
  REQUIRE(named.status == 202);
  const std::string refused_id = Field(named.body, "deployment");
  const std::string refused = WaitFinished(*daemon, refused_id);
  CHECK(Field(refused, "state") == "failed");
  CHECK(Field(refused, "reason").find("is suspended by loopback") != std::string::npos);

  // A restart keeps it suspended: its start-up reconcile leaves the stack alone too.
  CHECK(daemon->Terminate() == 0);
  daemon = std::make_unique<Daemon>(config, rig.dir() / "serve2.log", "PODCD_LOG_LEVEL=info");
  REQUIRE(daemon->port() != 0);
  CHECK(Field(StackJson(*daemon, stack), "state") == "suspended");
  CHECK(Field(DeployAll(*daemon), "state") == "succeeded");
  CHECK(version() == "2");

  CHECK(cli("resume " + stack).exit_code == 0);
  auto bad_pin = cli("pin " + stack + " " + refused_id);
  CHECK(bad_pin.exit_code == 1);
  CHECK(bad_pin.output.find("answered 422") != std::string::npos);
  auto pin = cli("pin " + stack + " " + d1);
  CHECK(pin.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(pin.output, m, std::regex("deployment (\\S+) queued")));
  CHECK(Field(WaitFinished(*daemon, m[1]), "state") == "succeeded");
  CHECK(version() == "1");
  const std::string pinned = StackJson(*daemon, stack);
  CHECK(Field(pinned, "state") == "pinned");
  CHECK(Field(pinned, "deployment") == d1);
  CHECK(cli("status").output.find("!! " + stack + " is PINNED to deployment " + d1) != std::string::npos);
  // Commits and reconciles do not move it.
  rig.Commit(Files(stack, "4"), "at 4");
  CHECK(Field(DeployAll(*daemon), "state") == "succeeded");
  CHECK(version() == "1");

  auto unpin = cli("unpin " + stack);
  CHECK(unpin.exit_code == 0);
  REQUIRE(std::regex_search(unpin.output, m, std::regex("deployment (\\S+) queued")));
  CHECK(Field(WaitFinished(*daemon, m[1]), "state") == "succeeded");
  CHECK(version() == "4");
  CHECK(Field(StackJson(*daemon, stack), "state") == "in-sync");
  CHECK(daemon->Terminate() == 0);
}
