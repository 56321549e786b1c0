// A stack made of several files, deployed on real Podman: services that extend a service of
// another file of the stack (with that file's relative paths), a service from an included file
// elsewhere in the repository, and an override file. A change to the override file for one
// service recreates that service and no other; a change to the included file recreates its
// service only.
#include <catch2/catch.hpp>
#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("extends across two files, include and an override file deploy as compose merges them", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("multi");
  const std::string dir = "services/" + stack + "/";
  const std::string shared = "shared/" + stack + "/";
  const std::string compose =
      "include:\n"
      "  - ../../" +
      shared +
      "kv.yml\n"
      "services:\n"
      "  a:\n"
      "    extends: {file: common/base.yml, service: web}\n"
      "    environment: {ROLE: a}\n"
      "  b:\n"
      "    extends: {file: common/base.yml, service: web}\n"
      "    environment: {ROLE: b}\n";
  // The base's relative bind is its own directory's (services/<stack>/common/page.html).
  const std::string base =
      "services:\n"
      "  web:\n"
      "    image: localhost/bb:1\n"
      "    init: true\n"
      "    command: [httpd, -f, -p, \"8080\", -h, /www]\n"
      "    environment: {FROM_BASE: \"yes\"}\n"
      "    volumes: [\"./page.html:/www/page.html:ro\"]\n";
  const std::string kv =
      "services:\n"
      "  kv:\n"
      "    image: localhost/bb:1\n"
      "    init: true\n"
      "    command: [sleep, \"3600\"]\n"
      "    volumes: [\"./kv.conf:/etc/kv.conf:ro\"]\n";
  rig.Commit({{dir + "compose.yml", compose},
              {dir + "common/base.yml", base},
              {dir + "common/page.html", "from the base's directory\n"},
              {dir + "compose.override.yaml", "services:\n  a:\n    environment: {EXTRA: \"1\"}\n"},
              {shared + "kv.yml", kv},
              {shared + "kv.conf", "from the included file's directory\n"}},
             "multi-file stack");

  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  auto ids = rig.Ids(stack);
  REQUIRE(ids.size() == 3);
  for (const auto& [service, id] : ids) CHECK(rig.Running(id));

  const std::string a = stack + "_a_1";
  auto env_a = rig.Exec(a, "env");
  INFO(env_a.output);
  CHECK(Contains(env_a.output, "ROLE=a"));
  CHECK(Contains(env_a.output, "FROM_BASE=yes"));
  CHECK(Contains(env_a.output, "EXTRA=1"));
  auto env_b = rig.Exec(stack + "_b_1", "env");
  CHECK(Contains(env_b.output, "ROLE=b"));
  CHECK_FALSE(Contains(env_b.output, "EXTRA="));
  auto page = rig.Exec(a, "cat /www/page.html");
  CHECK(Contains(page.output, "from the base's directory"));
  auto conf = rig.Exec(stack + "_kv_1", "cat /etc/kv.conf");
  CHECK(Contains(conf.output, "from the included file's directory"));

  auto again = rig.Reconcile();
  INFO(again.Describe());
  CHECK(again.Succeeded());
  CHECK(again.writes == 0);

  // The override file shapes `a` only: a comment in it recreates `a`, and nothing else.
  rig.Commit({{dir + "compose.override.yaml", "# for a\nservices:\n  a:\n    environment: {EXTRA: \"2\"}\n"}},
             "override a");
  auto over = rig.Reconcile();
  INFO(over.Describe());
  REQUIRE(over.Succeeded());
  auto after = rig.Ids(stack);
  CHECK(after.at("a") != ids.at("a"));
  CHECK(after.at("b") == ids.at("b"));
  CHECK(after.at("kv") == ids.at("kv"));
  CHECK(Contains(rig.Exec(a, "env").output, "EXTRA=2"));

  // The included file shapes `kv` only.
  rig.Commit({{shared + "kv.yml", kv + "    environment: {V: \"2\"}\n"}}, "kv changes");
  auto inc = rig.Reconcile();
  INFO(inc.Describe());
  REQUIRE(inc.Succeeded());
  auto last = rig.Ids(stack);
  CHECK(last.at("kv") != after.at("kv"));
  CHECK(last.at("a") == after.at("a"));
  CHECK(last.at("b") == after.at("b"));
}
