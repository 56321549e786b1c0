// Compose semantics on real Podman: what `profiles` deploys and removes, and the writable
// tmpfs of read-only containers, as docker compose and `podman run --read-only` give them.
#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

// busybox httpd on 8080 serving the image's /www, after `before` (a shell command) succeeds.
std::string Httpd(const std::string& before = "true", const std::string& extra = "") {
  return "    image: localhost/bb:1\n"
         "    command: [\"sh\", \"-c\", \"" +
         before +
         " && exec httpd -f -p 8080 -h /www\"]\n"
         "    init: true\n" +
         extra;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ContainerName(const std::string& stack, const std::string& service) {
  return stack + "_" + service + "_1";
}

}  // namespace

TEST_CASE("read_only: /run, /tmp and /var/tmp are writable tmpfs, the rest of the root is not", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("readonly");
  const std::string dir = "services/" + stack + "/";
  // `app` writes its pid file before it serves: without a writable /run it exits at once and
  // fails its gate. Its config lies below /run, over the tmpfs. `own` mounts its own /tmp.
  const std::string compose =
      "services:\n"
      "  app:\n" +
      Httpd("echo 1 > /run/app.pid",
            "    read_only: true\n"
            "    configs: [{source: conf, target: /run/app/app.conf}]\n") +
      "  own:\n" + Httpd("true", "    read_only: true\n    tmpfs: [\"/tmp/:size=1m\"]\n") +
      "configs:\n  conf: {file: ./app.conf}\n";
  rig.Commit({{dir + "compose.yml", compose}, {dir + "app.conf", "from the repo\n"}}, "read-only");

  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  const std::string app = ContainerName(stack, "app");
  CHECK(rig.Running(rig.Ids(stack).at("app")));

  auto writes = rig.Exec(
      app, "sh -c 'echo x > /tmp/x && echo 2 > /run/x.pid && echo y > /var/tmp/y && cat /run/app.pid'");
  INFO(writes.output);
  CHECK(writes.exit_code == 0);
  auto etc = rig.Exec(app, "sh -c 'echo x > /etc/x'");
  INFO(etc.output);
  CHECK(etc.exit_code != 0);
  CHECK(Contains(etc.output, "Read-only file system"));
  auto conf = rig.Exec(app, "cat /run/app/app.conf");
  INFO(conf.output);
  CHECK(Contains(conf.output, "from the repo"));

  // The service's own /tmp (1 MiB) is the one mounted; /run and /var/tmp are podcd's.
  auto mounts = rig.Exec(ContainerName(stack, "own"), "cat /proc/mounts");
  INFO(mounts.output);
  CHECK(std::regex_search(mounts.output, std::regex("tmpfs /tmp tmpfs [^\\n]*size=1024k")));
  CHECK(std::regex_search(mounts.output, std::regex("tmpfs /run tmpfs rw,")));
  CHECK(std::regex_search(mounts.output, std::regex("tmpfs /var/tmp tmpfs rw,")));
  CHECK_FALSE(std::regex_search(mounts.output, std::regex("/tmp tmpfs[^\\n]*\\n[^\\n]* /tmp tmpfs")));

  auto again = rig.Reconcile();
  INFO(again.Describe());
  CHECK(again.Succeeded());
  CHECK(again.writes == 0);
}

TEST_CASE("profiles: only enabled services run; switching a profile off removes just its service", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("profiles");
  const std::string dir = "services/" + stack + "/";
  const std::string compose = "services:\n  web:\n" + Httpd() + "  debug:\n" +
                              Httpd("true", "    profiles: [debug]\n") + "  tools:\n" +
                              Httpd("true", "    profiles: [tools]\n");

  // No COMPOSE_PROFILES: web alone.
  rig.Commit({{dir + "compose.yml", compose}}, "profiled services");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  auto ids = rig.Ids(stack);
  CHECK(ids.size() == 1);
  REQUIRE(ids.contains("web"));
  const std::string web = ids.at("web");

  // debug switched on in the stack's .env: created; web untouched.
  rig.Commit({{dir + ".env", "COMPOSE_PROFILES=debug\n"}}, "debug on");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  ids = rig.Ids(stack);
  CHECK(ids.size() == 2);
  REQUIRE(ids.contains("debug"));
  CHECK(ids.at("web") == web);
  CHECK(rig.Running(ids.at("debug")));
  auto reach = rig.Exec(ContainerName(stack, "web"), "timeout 5 wget -qO- http://debug:8080/");
  INFO(reach.output);
  CHECK(Contains(reach.output, "hello from bb"));

  // Switched off again: the plan says why debug goes; then it is gone and web still untouched.
  rig.Commit({{dir + ".env", "COMPOSE_PROFILES=\n"}}, "debug off");
  auto plan = rig.Cli("plan");
  INFO(plan.output);
  CHECK(std::regex_search(plan.output, std::regex("\\n  debug +remove +[^\\n]*service not enabled")));
  CHECK(std::regex_search(plan.output, std::regex("\\n  web +unchanged")));
  auto third = rig.Reconcile();
  INFO(third.Describe());
  REQUIRE(third.Succeeded());
  CHECK(Contains(third.Log(),
                 "debug: removed (service not enabled: none of its profiles is in COMPOSE_PROFILES)"));
  ids = rig.Ids(stack);
  CHECK(ids.size() == 1);
  CHECK(ids.contains("web"));
  CHECK(ids.at("web") == web);

  auto fourth = rig.Reconcile();
  INFO(fourth.Describe());
  CHECK(fourth.Succeeded());
  CHECK(fourth.writes == 0);
}

TEST_CASE("profiles: an enabled service needing a disabled one makes its stack invalid, and only it",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string bad = rig.Stack("needs-disabled");
  const std::string good = rig.Stack("fine");
  rig.Commit(
      {{"services/" + bad + "/compose.yml", "services:\n  web:\n" + Httpd("true", "    depends_on: [db]\n") +
                                                "  db:\n" + Httpd("true", "    profiles: [db]\n")},
       {"services/" + good + "/compose.yml", "services:\n  web:\n" + Httpd()}},
      "two stacks");
  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Stack(bad) != nullptr);
  CHECK(run.Stack(bad)->outcome == "invalid");
  CHECK(Contains(run.Stack(bad)->reason, "service \"web\" needs service \"db\""));
  CHECK(rig.Containers(bad).empty());
  REQUIRE(run.Stack(good) != nullptr);
  CHECK(run.Stack(good)->outcome == "updated");
  CHECK(rig.Containers(good).size() == 1);
}
