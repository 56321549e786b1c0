// What a deployment reports as brought (StackResult::brought): the images its services' pulls
// and builds put on the host, never one that was there already (issue 16).
#include <catch2/catch.hpp>

#include <fstream>

#include "reconcile/apply.hpp"
#include "support/temp_dir.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;
using namespace std::chrono_literals;

namespace {

ServiceJob Service(const std::string& name, core::Action action, const std::string& image) {
  ServiceJob s;
  s.name = name;
  s.action = action;
  s.spec.name = "web_" + name + "_1";
  s.spec.image = image;
  s.spec.labels = {{"io.podcd.stack", "web"}, {"io.podcd.service", name}, {"io.podcd.fingerprint", "f2"}};
  return s;
}

StackResult Apply(FakeRuntime& rt, std::vector<ServiceJob> services, bool update = false) {
  FakeClock clock;
  GateOptions gate;
  gate.settle = 1000ms;
  StackJob job{"web", std::move(services), {}, {}, {}, update};
  return ApplyStack(job, rt, clock, gate, [](const std::string&) {});
}

std::vector<std::string> Brought(const StackResult& r) {
  std::vector<std::string> out;
  for (const auto& b : r.brought) out.push_back(b.service + " " + b.id + " " + b.how);
  return out;
}

}  // namespace

TEST_CASE("brought images: a pull of a missing image, for each service that uses it, with its names") {
  FakeRuntime rt;
  rt.registry["reg/app:1"] = "sha-app1";
  auto r = Apply(rt, {Service("a", core::Action::kCreate, "reg/app:1"),
                      Service("b", core::Action::kCreate, "reg/app:1")});
  REQUIRE(r.ok);
  CHECK(Brought(r) == std::vector<std::string>{"a sha-app1 pulled", "b sha-app1 pulled"});
  CHECK(r.brought.front().tags == std::vector<std::string>{"reg/app:1"});
}

TEST_CASE("brought images: an image already here is not podcd's, even when pulled again") {
  FakeRuntime rt;
  rt.images["reg/app:1"] = "sha-app1";  // pulled by hand
  rt.registry["reg/app:1"] = "sha-app1";
  auto r = Apply(rt, {Service("a", core::Action::kCreate, "reg/app:1")});
  REQUIRE(r.ok);
  CHECK(r.brought.empty());
  // redeploy-and-update pulls it again: the registry has nothing newer, nothing is brought.
  auto again = Apply(rt, {Service("a", core::Action::kUnchanged, "reg/app:1")}, true);
  CHECK(again.brought.empty());
  // The tag moved in the registry: the new image is podcd's.
  rt.registry["reg/app:1"] = "sha-app2";
  auto moved = Apply(rt, {Service("a", core::Action::kUnchanged, "reg/app:1")}, true);
  CHECK(Brought(moved) == std::vector<std::string>{"a sha-app2 pulled"});
}

TEST_CASE("brought images: a build is, even when the deployment then fails") {
  FakeRuntime rt;
  rt.images["localhost/bb:1"] = "sha-bb1";
  test::TempDir context;
  std::ofstream(context.path() / "Containerfile") << "FROM localhost/bb:1\n";
  ServiceJob s = Service("app", core::Action::kCreate, "localhost/podcd-build/web_app:abc");
  s.build =
      podman::BuildRequest{context.path().string(), "", {"localhost/podcd-build/web_app:abc"}, {}, "", {}};
  rt.exit_on_start["localhost/podcd-build/web_app:abc"] = "1";
  auto r = Apply(rt, {s});
  CHECK_FALSE(r.ok);
  REQUIRE(r.brought.size() == 1);
  CHECK(r.brought.front().how == "built");
  CHECK(r.brought.front().tags == std::vector<std::string>{"localhost/podcd-build/web_app:abc"});
}
