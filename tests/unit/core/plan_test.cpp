#include "core/plan.hpp"

#include <catch2/catch.hpp>

using namespace podcd::core;

namespace {

DesiredService Svc(std::string name, std::string fp, std::map<std::string, std::string> fields = {}) {
  DesiredService s;
  s.name = std::move(name);
  s.fingerprint = std::move(fp);
  s.field_hashes = std::move(fields);
  s.restart = "unless-stopped";
  return s;
}

DesiredStack Stack(std::string name, std::vector<DesiredService> services) {
  DesiredStack s;
  s.name = std::move(name);
  s.services = std::move(services);
  return s;
}

ActualContainer Running(std::string stack, std::string service, std::string fp,
                        std::map<std::string, std::string> fields = {}) {
  ActualContainer c;
  c.id = stack + "-" + service + "-id";
  c.name = stack + "_" + service + "_1";
  c.stack = std::move(stack);
  c.service = std::move(service);
  c.fingerprint = std::move(fp);
  c.field_hashes = std::move(fields);
  c.running = true;
  c.status = "running";
  return c;
}

}  // namespace

TEST_CASE("a stack with no containers is created, service by service") {
  auto p = Plan({Stack("web", {Svc("site", "f1"), Svc("api", "f2")})}, {});
  REQUIRE(p.stacks.size() == 1);
  CHECK(p.stacks[0].action == Action::kCreate);
  REQUIRE(p.stacks[0].services.size() == 2);
  CHECK(p.stacks[0].services[0].name == "api");  // sorted
  CHECK(p.stacks[0].services[0].action == Action::kCreate);
  CHECK(p.stacks[0].services[0].reasons == std::vector<std::string>{"no container"});
  CHECK(p.HasWork());
}

TEST_CASE("matching fingerprints on running containers: nothing to do") {
  auto p = Plan({Stack("web", {Svc("site", "f1")})}, {Running("web", "site", "f1")});
  CHECK(p.stacks[0].action == Action::kUnchanged);
  CHECK(p.stacks[0].services[0].action == Action::kUnchanged);
  CHECK(p.stacks[0].reasons.empty());
  CHECK_FALSE(p.HasWork());
}

TEST_CASE("a changed fingerprint recreates exactly that service, naming the fields") {
  std::map<std::string, std::string> before{{"image", "a"},
                                            {"environment.FOO", "1"},
                                            {"environment.OLD", "x"},
                                            {"file services/web/nginx.conf", "h1"}};
  std::map<std::string, std::string> after{{"image", "a"},
                                           {"environment.FOO", "2"},
                                           {"environment.NEW", "y"},
                                           {"file services/web/nginx.conf", "h2"}};
  auto p = Plan({Stack("web", {Svc("site", "f2", after), Svc("db", "d1")})},
                {Running("web", "site", "f1", before), Running("web", "db", "d1")});
  const auto& st = p.stacks[0];
  CHECK(st.action == Action::kRecreate);
  CHECK(st.services[0].name == "db");
  CHECK(st.services[0].action == Action::kUnchanged);
  CHECK(st.services[1].action == Action::kRecreate);
  CHECK(st.services[1].reasons == std::vector<std::string>{"environment.FOO changed", "environment.NEW added",
                                                           "environment.OLD removed",
                                                           "file services/web/nginx.conf changed"});
  CHECK(st.services[1].containers == std::vector<std::string>{"web-site-id"});
  CHECK(st.reasons.front() == "site: environment.FOO changed");
}

TEST_CASE("a fingerprint change without field labels still gives a reason") {
  auto p = Plan({Stack("web", {Svc("site", "f2")})}, {Running("web", "site", "f1")});
  CHECK(p.stacks[0].services[0].reasons == std::vector<std::string>{"fingerprint changed"});
}

TEST_CASE("drift: a stopped or missing container is repaired; a finished one-shot is not") {
  auto stopped = Running("web", "site", "f1");
  stopped.running = false;
  stopped.status = "exited";
  stopped.exit_code = 137;
  auto p = Plan({Stack("web", {Svc("site", "f1")})}, {stopped});
  CHECK(p.stacks[0].services[0].action == Action::kRecreate);
  CHECK(p.stacks[0].services[0].reasons ==
        std::vector<std::string>{"container web_site_1 is exited (exit code 137)"});

  auto oneshot = Svc("migrate", "m1");
  oneshot.restart = "no";
  auto done = Running("web", "migrate", "m1");
  done.running = false;
  done.status = "exited";
  done.exit_code = 0;
  CHECK(Plan({Stack("web", {oneshot})}, {done}).stacks[0].services[0].action == Action::kUnchanged);
  done.exit_code = 1;
  CHECK(Plan({Stack("web", {oneshot})}, {done}).stacks[0].services[0].action == Action::kRecreate);
}

TEST_CASE("dependents that compose recreates with their dependency are recreated, transitively") {
  auto db = Svc("db", "d2");
  auto api = Svc("api", "a1");
  api.recreate_with = {"db"};
  auto sidecar = Svc("sidecar", "s1");
  sidecar.recreate_with = {"api"};
  auto other = Svc("other", "o1");
  other.recreate_with = {};  // plain depends_on: not recreated
  auto p = Plan({Stack("app", {db, api, sidecar, other})},
                {Running("app", "db", "d1"), Running("app", "api", "a1"), Running("app", "sidecar", "s1"),
                 Running("app", "other", "o1")});
  const auto* st = p.Find("app");
  REQUIRE(st);
  auto action = [&](const std::string& n) {
    for (const auto& s : st->services) {
      if (s.name == n) return s.action;
    }
    return Action::kInvalid;
  };
  CHECK(action("db") == Action::kRecreate);
  CHECK(action("api") == Action::kRecreate);
  CHECK(action("sidecar") == Action::kRecreate);
  CHECK(action("other") == Action::kUnchanged);
}

TEST_CASE("services and stacks gone from the repo are planned for removal") {
  auto p = Plan({Stack("web", {Svc("site", "f1")})},
                {Running("web", "site", "f1"), Running("web", "old", "x"), Running("gone", "svc", "g")});
  REQUIRE(p.stacks.size() == 2);
  CHECK(p.stacks[0].name == "gone");
  CHECK(p.stacks[0].action == Action::kRemove);
  CHECK(p.stacks[0].services[0].action == Action::kRemove);
  CHECK(p.stacks[1].action == Action::kRecreate);
  CHECK(p.stacks[1].services.back().name == "old");
  CHECK(p.stacks[1].services.back().action == Action::kRemove);
  CHECK(p.stacks[1].services.back().reasons ==
        std::vector<std::string>{"service removed from the compose file"});
}

TEST_CASE("a service whose profiles are switched off is removed, and the plan says why") {
  auto web = Stack("web", {Svc("site", "f1")});
  web.disabled = {"debug"};
  auto p =
      Plan({web}, {Running("web", "site", "f1"), Running("web", "debug", "d"), Running("web", "old", "x")});
  REQUIRE(p.stacks.size() == 1);
  const auto& services = p.stacks[0].services;
  REQUIRE(services.size() == 3);
  CHECK(services[1].name == "debug");
  CHECK(services[1].action == Action::kRemove);
  CHECK(services[1].reasons ==
        std::vector<std::string>{"service not enabled: none of its profiles is in COMPOSE_PROFILES"});
  CHECK(services[2].name == "old");
  CHECK(services[2].reasons == std::vector<std::string>{"service removed from the compose file"});
}

TEST_CASE("invalid and refused stacks are reported and their containers left alone") {
  DesiredStack bad;
  bad.name = "web";
  bad.status = StackStatus::kInvalid;
  bad.problems = {"services/web/compose.yml:3:5: services.site.imagee: unsupported key"};
  DesiredStack refused;
  refused.name = "priv";
  refused.status = StackStatus::kRefused;
  refused.problems = {"service box: privileged: true is not allowed"};
  auto p = Plan({bad, refused}, {Running("web", "site", "f1")});
  CHECK(p.Find("web")->action == Action::kInvalid);
  CHECK(p.Find("web")->reasons == bad.problems);
  CHECK(p.Find("web")->services.empty());
  CHECK(p.Find("priv")->action == Action::kRefused);
  CHECK_FALSE(p.HasWork());
}

TEST_CASE("two containers for one service, and temporary leftovers, are work") {
  auto a = Running("web", "site", "f1");
  auto b = Running("web", "site", "f1");
  b.id = "other-id";
  b.name = "web_site_1_new";
  auto p = Plan({Stack("web", {Svc("site", "f1")})}, {a, b});
  CHECK(p.stacks[0].services[0].action == Action::kRecreate);
  CHECK(p.stacks[0].services[0].containers.size() == 2);

  auto tmp = Running("web", "site", "f2");
  tmp.id = "tmp-id";
  tmp.temporary = true;
  auto q = Plan({Stack("web", {Svc("site", "f1")})}, {a, tmp});
  CHECK(q.stacks[0].services[0].action == Action::kUnchanged);
  CHECK(q.stacks[0].leftovers == std::vector<std::string>{"tmp-id"});
  CHECK(q.HasWork());
}

TEST_CASE("plan is deterministic whatever the input order") {
  std::vector<ActualContainer> actual{Running("b", "x", "1"), Running("a", "y", "2"), Running("a", "x", "3")};
  auto p1 = Plan({Stack("a", {Svc("x", "3"), Svc("y", "2")}), Stack("b", {Svc("x", "9")})}, actual);
  std::reverse(actual.begin(), actual.end());
  auto p2 = Plan({Stack("b", {Svc("x", "9")}), Stack("a", {Svc("y", "2"), Svc("x", "3")})}, actual);
  REQUIRE(p1.stacks.size() == p2.stacks.size());
  for (size_t i = 0; i < p1.stacks.size(); ++i) {
    CHECK(p1.stacks[i].name == p2.stacks[i].name);
    CHECK(p1.stacks[i].action == p2.stacks[i].action);
    CHECK(p1.stacks[i].reasons == p2.stacks[i].reasons);
  }
}

TEST_CASE("field hashes survive the label encoding, including separators in names") {
  std::map<std::string, std::string> f{
      {"environment.A=B", "h1"}, {"label.x;y", "h2"}, {"file a%b", "h3"}, {"image", ""}};
  CHECK(DecodeFieldHashes(EncodeFieldHashes(f)) == f);
  CHECK(DecodeFieldHashes("").empty());
  CHECK(DecodeFieldHashes("garbage;=x;a=b")["a"] == "b");
}

TEST_CASE("temporary names round trip") {
  CHECK(IsTemporaryName("web_site_1_podcd-next"));
  CHECK_FALSE(IsTemporaryName("web_site_1"));
  CHECK(FinalName("web_site_1_podcd-next") == "web_site_1");
  CHECK(TemporaryName("web_site_1") == "web_site_1_podcd-next");
  CHECK(FinalName("web_site_1") == "web_site_1");
}

TEST_CASE("the plan as JSON: the same text as podcd plan --json wrote, valid whatever a reason quotes") {
  DesiredStack bad;
  bad.name = "bin";
  bad.status = StackStatus::kInvalid;
  // A binary compose file's error quotes its bytes: ill-formed UTF-8, NUL, control characters.
  bad.problems = {std::string("services/bin/compose.yml:1:1: \xff\xfe") + '\0' +
                  "\x08\x1f\"\\\xc3\x28 \xe2\x82\xac"};
  auto plan = Plan({bad, Stack("web", {Svc("app", "fp")})}, {});
  const std::string json = ToJson(plan, "abc123");
  CHECK(json ==
        "{\"commit\":\"abc123\",\"stacks\":[{\"name\":\"bin\",\"action\":\"invalid\",\"reasons\":["
        "\"services/bin/compose.yml:1:1: \xef\xbf\xbd\xef\xbf\xbd\\u0000\\u0008\\u001f\\\"\\\\\xef\xbf\xbd( "
        "\xe2\x82\xac\"],\"services\":[]},{\"name\":\"web\",\"action\":\"create\",\"reasons\":[\"app: no "
        "container\"],\"services\":"
        "[{\"name\":\"app\",\"action\":\"create\",\"reasons\":[\"no container\"]}]}]}");
}

// The label's hashes are keyed per installation: hashes under another key, or an older
// podcd's unkeyed ones (no kFieldKeyId entry), all differ and name nothing.
TEST_CASE("field hashes under another key are not compared; the fingerprint alone decides") {
  const std::string id(kFieldKeyId);
  auto keyed = [&](std::string key, std::string image) {
    return std::map<std::string, std::string>{{id, key}, {"image", image}, {"environment.A", "e1"}};
  };
  auto same_key = Plan({Stack("web", {Svc("site", "f2", keyed("k1", "i2"))})},
                       {Running("web", "site", "f1", keyed("k1", "i1"))});
  CHECK(same_key.stacks[0].services[0].reasons == std::vector<std::string>{"image changed"});
  auto other_key = Plan({Stack("web", {Svc("site", "f2", keyed("k2", "i2"))})},
                        {Running("web", "site", "f1", keyed("k1", "i1"))});
  CHECK(other_key.stacks[0].services[0].reasons == std::vector<std::string>{"fingerprint changed"});
  auto old_label = Plan({Stack("web", {Svc("site", "f2", keyed("k1", "i2"))})},
                        {Running("web", "site", "f1", {{"image", "i1"}, {"environment.A", "e1"}})});
  CHECK(old_label.stacks[0].services[0].reasons == std::vector<std::string>{"fingerprint changed"});
  // An upgrade changes the hashes, not the fingerprint: nothing is recreated.
  auto upgrade = Plan({Stack("web", {Svc("site", "f1", keyed("k1", "i1"))})},
                      {Running("web", "site", "f1", {{"image", "0123456789ab"}})});
  CHECK(upgrade.stacks[0].services[0].action == Action::kUnchanged);
}

TEST_CASE("a stack's notes (keys accepted and ignored) reach its plan and the JSON, and are not work") {
  DesiredStack web = Stack("web", {Svc("app", "fp")});
  web.notes = {"services.app.develop: ignored (compose watch has no meaning on a server)"};
  auto plan = Plan({web}, {Running("web", "app", "fp")});
  REQUIRE(plan.stacks.size() == 1);
  CHECK(plan.stacks[0].notes == web.notes);
  CHECK(plan.stacks[0].action == Action::kUnchanged);
  CHECK_FALSE(plan.HasWork());
  CHECK(
      ToJson(plan, "c").find("\"notes\":[\"services.app.develop: ignored (compose watch has no meaning on a "
                             "server)\"]") != std::string::npos);
  // Without notes the JSON is as before.
  CHECK(ToJson(Plan({Stack("web", {Svc("app", "fp")})}, {}), "c").find("notes") == std::string::npos);
}
