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
