// A stack deploys as one transaction, on real Podman: when one changed service fails its gate,
// every service the commit changed runs its previous container again.
#include <catch2/catch.hpp>
#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string Httpd(const std::string& extra = "") {
  return "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n" +
         extra;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "a commit that changes a and b, with b failing its gate, leaves the whole stack on the previous commit",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("atomic");
  const std::string file = "services/" + stack + "/compose.yml";
  const std::string v1 = rig.Commit({{file, "services:\n  a:\n" + Httpd("    environment: {V: \"1\"}\n") +
                                                "  b:\n" + Httpd("    environment: {V: \"1\"}\n")}},
                                    "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 2);

  // a changes and would pass; b changes and fails its healthcheck; c is new.
  rig.Commit({{file, "services:\n  a:\n" + Httpd("    environment: {V: \"2\"}\n") + "  b:\n" +
                         Httpd("    environment: {V: \"2\"}\n"
                               "    healthcheck:\n      test: [\"CMD\", \"false\"]\n"
                               "      interval: 1s\n      timeout: 1s\n      retries: 2\n") +
                         "  c:\n" + Httpd()}},
             "v2: b is broken");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  const auto* outcome = second.Stack(stack);
  REQUIRE(outcome != nullptr);
  CHECK(outcome->outcome == "failed");
  // The record names the service that failed and says the stack was rolled back.
  CHECK(outcome->reason.starts_with("b rolled-back: gate:"));
  CHECK(Contains(outcome->reason, "; the stack was rolled back: a, c"));
  // Every container is the previous one, running, on the previous commit; c is gone.
  CHECK(rig.Ids(stack) == before);
  for (const auto& c : rig.Containers(stack)) {
    INFO(c.name);
    CHECK(c.state == "running");
    CHECK(Label(c, core::kLabelCommit) == v1);
    CHECK_FALSE(core::IsTemporaryName(c.name));
  }
  CHECK(Contains(rig.Exec(stack + "_a_1", "sh -c 'echo V=$V'").output, "V=1"));
}

// After every gate passed the stack commits; a commit step that fails must not send one service
// back while the rest stays new. Podman refuses to remove a container whose network namespace
// another container joined: that is such a failure, on real Podman.
TEST_CASE(
    "an old container Podman will not remove after the commit is retired; the stack stays on the new commit",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("retire");
  const std::string file = "services/" + stack + "/compose.yml";
  auto compose = [&](const std::string& v) {
    return "services:\n  a:\n" + Httpd("    environment: {V: \"" + v + "\"}\n") + "  b:\n" +
           Httpd("    environment: {V: \"" + v + "\"}\n");
  };
  rig.Commit({{file, compose("1")}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 2);

  // A container outside podcd joins old a's network namespace: Podman will not remove old a.
  const std::string joiner = stack + "-joiner";
  rig.Foreign(joiner);
  Sh("podman create --name " + Quote(joiner) + " --network container:" + before.at("a") +
     " localhost/bb:1 sleep 3600");

  const std::string v2 = rig.Commit({{file, compose("2")}}, "v2");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK(second.Succeeded());
  REQUIRE(second.Stack(stack) != nullptr);
  CHECK(second.Stack(stack)->outcome == "updated");
  const std::string retired = core::RetiredName(stack + "_a_1");
  CHECK(Contains(second.Log(), "a: recreated"));
  CHECK(Contains(second.Log(), "old container kept stopped as " + retired));
  int retired_seen = 0;
  for (const auto& c : rig.Containers(stack)) {
    INFO(c.name);
    if (c.name == retired) {
      ++retired_seen;
      CHECK(c.id == before.at("a"));
      CHECK(c.state != "running");
      continue;
    }
    // Both services run the new commit under their own names: nothing went back.
    CHECK(c.state == "running");
    CHECK(Label(c, core::kLabelCommit) == v2);
    CHECK_FALSE(core::IsTemporaryName(c.name));
  }
  CHECK(retired_seen == 1);
  CHECK(Contains(rig.Exec(stack + "_a_1", "sh -c 'echo V=$V'").output, "V=2"));

  // Once the joiner is gone, the next run removes the retired container, and the one after
  // that touches nothing.
  Sh("podman rm -f " + Quote(joiner));
  auto third = rig.Reconcile();
  INFO(third.Describe());
  CHECK(third.Succeeded());
  const auto after = rig.Ids(stack);
  CHECK(after.size() == 2);
  for (const auto& c : rig.Containers(stack)) CHECK_FALSE(core::IsTemporaryName(c.name));
  auto fourth = rig.Reconcile();
  INFO(fourth.Describe());
  CHECK(fourth.Succeeded());
  CHECK(fourth.writes == 0);
}
