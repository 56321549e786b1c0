// What an interrupted (killed) run leaves for the next one: requests that reach Podman after the
// next run listed the containers. The next run adopts or replaces what it finds, never fails on it.
#include <catch2/catch.hpp>

#include "reconcile/apply.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> Labels(const std::string& stack, const std::string& service) {
  return {{"io.podcd.stack", stack}, {"io.podcd.service", service}, {"io.podcd.fingerprint", "f1"}};
}

ServiceJob Job(const std::string& service, core::Action action) {
  ServiceJob s;
  s.name = service;
  s.action = action;
  s.spec.name = "web_" + service + "_1";
  s.spec.image = "localhost/bb:1";
  s.spec.labels = Labels("web", service);
  return s;
}

struct Harness {
  FakeRuntime rt;
  FakeClock clock;
  std::vector<std::string> log;
  Harness() { rt.images["localhost/bb:1"] = "sha-bb1"; }
  StackResult Apply(std::vector<ServiceJob> services) {
    GateOptions gate;
    gate.settle = 1000ms;
    gate.timeout = 10'000ms;
    return ApplyStack({"web", std::move(services), {}, {}, {}, false}, rt, clock, gate,
                      [this](const std::string& l) { log.push_back(l); });
  }
  std::string Log() const {
    std::string out;
    for (const auto& l : log) out += l + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("crash: a container of the service that holds the name of a new one is a leftover and goes") {
  Harness h;
  // The killed run's create reached Podman after this run listed: the plan says "no container".
  const auto late = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {}, false);
  h.rt.containers.at(late).status = "created";
  auto r = h.Apply({Job("site", core::Action::kCreate)});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "created");
  CHECK_FALSE(h.rt.containers.contains(late));
  REQUIRE(h.rt.ByName("web_site_1") != nullptr);
  CHECK(h.rt.ByName("web_site_1")->status == "running");
  CHECK(h.Log().find("site: removed web_site_1 (created), left by an interrupted deployment") !=
        std::string::npos);
}

TEST_CASE("crash: a leftover that no list shows yet, or a list that fails, is waited for and then goes") {
  Harness h;
  // The killed run's create landed: Podman answers its name, but the next lists miss it, and
  // the first fails (a list racing another service's removal of its own leftover).
  const auto late = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"), {}, false);
  h.rt.containers.at(late).status = "created";
  h.rt.failing_lists = 1;
  h.rt.unlisted[late] = 2;
  auto r = h.Apply({Job("site", core::Action::kCreate)});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK_FALSE(h.rt.containers.contains(late));
  REQUIRE(h.rt.ByName("web_site_1") != nullptr);
  CHECK(h.rt.ByName("web_site_1")->status == "running");
}

TEST_CASE(
    "crash: a container of another owner holding the name fails the create, named, after a short wait") {
  Harness h;
  h.rt.Add("web_site_1", "localhost/bb:1", {}, {}, false);  // no podcd labels: a person's
  auto r = h.Apply({Job("site", core::Action::kCreate)});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.find("web_site_1") != std::string::npos);
  CHECK(h.rt.containers.size() == 1);
}

TEST_CASE(
    "crash: a leftover under the temporary name is replaced; the old container is never taken for one") {
  Harness h;
  const auto old = h.rt.Add("web_site_1", "localhost/bb:1", Labels("web", "site"));
  const auto late = h.rt.Add("web_site_1_podcd-next", "localhost/bb:1", Labels("web", "site"), {}, false);
  auto s = Job("site", core::Action::kRecreate);
  s.old_containers = {old};
  auto r = h.Apply({s});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "recreated");
  CHECK_FALSE(h.rt.containers.contains(late));
  CHECK_FALSE(h.rt.containers.contains(old));
  CHECK(h.rt.containers.size() == 1);
  CHECK(h.rt.ByName("web_site_1") != nullptr);
}

TEST_CASE("crash: a name held by a container that is not the service's is not touched") {
  Harness h;
  const auto foreign = h.rt.Add("web_site_1", "localhost/bb:1", {});
  const auto other = h.rt.Add("web_api_1", "localhost/bb:1", Labels("web", "site"));
  auto api = Job("api", core::Action::kCreate);
  auto r = h.Apply({Job("site", core::Action::kCreate), api});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.find("is in use") != std::string::npos);
  CHECK(h.rt.containers.contains(foreign));
  CHECK(h.rt.containers.contains(other));
}

TEST_CASE("crash: an old container already removed (a late removal) counts as removed") {
  Harness h;
  auto s = Job("site", core::Action::kRecreate);
  s.old_containers = {"id-gone"};
  auto r = h.Apply({s});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(ToString(r.services[0].outcome) == "recreated");
  REQUIRE(h.rt.ByName("web_site_1") != nullptr);
  CHECK(h.rt.ByName("web_site_1")->status == "running");
}
