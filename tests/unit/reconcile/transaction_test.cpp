// A stack deploys as one transaction (replace_steps.cpp's Settle): the previous containers are kept
// until every change of the stack passed its gate; a failure puts every one of them back.
#include <catch2/catch.hpp>

#include "reconcile/apply.hpp"
#include "unit/reconcile/fake_runtime.hpp"

using namespace podcd;
using namespace podcd::reconcile;
using podcd::test::FakeClock;
using podcd::test::FakeRuntime;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> Labels(const std::string& service, const std::string& fp) {
  return {{"io.podcd.stack", "web"}, {"io.podcd.service", service}, {"io.podcd.fingerprint", fp}};
}

struct Harness {
  FakeRuntime rt;
  FakeClock clock;
  std::vector<std::string> log;
  Harness() {
    for (const auto* image : {"localhost/bb:1", "localhost/bb:2", "localhost/bb:bad"}) {
      rt.images[image] = std::string("sha-") + image;
    }
    rt.health["localhost/bb:bad"] = "unhealthy";
  }
  // A service of stack "web": replaced (with an old container running) or created.
  ServiceJob Service(const std::string& name, core::Action action,
                     const std::string& image = "localhost/bb:2", std::vector<std::uint16_t> ports = {}) {
    ServiceJob s;
    s.name = name;
    s.action = action;
    s.spec.name = "web_" + name + "_1";
    s.spec.image = image;
    s.spec.labels = Labels(name, "new");
    if (action == core::Action::kRecreate)
      s.old_containers = {rt.Add(s.spec.name, "localhost/bb:1", Labels(name, "old"), ports)};
    for (auto p : ports) s.spec.ports.push_back({"", p, 80, 1, "tcp"});
    s.publishes_host_ports = !ports.empty();
    if (image == "localhost/bb:bad") {
      s.has_healthcheck = true;
      s.health_interval = 1s;
    }
    return s;
  }
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
  int LastIndexOf(const std::string& call) {
    auto cs = rt.Calls();
    for (size_t i = cs.size(); i > 0; --i) {
      if (cs[i - 1] == call) return static_cast<int>(i - 1);
    }
    return -1;
  }
};

const ServiceResult* Find(const StackResult& r, const std::string& name) {
  for (const auto& s : r.services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("transaction: one service fails its gate, so every change of the stack is undone") {
  Harness h;
  auto a = h.Service("a", core::Action::kRecreate);
  auto b = h.Service("b", core::Action::kRecreate, "localhost/bb:bad");
  auto c = h.Service("c", core::Action::kCreate);
  const std::string old_a = a.old_containers[0], old_b = b.old_containers[0];
  auto r = h.Apply({a, b, c});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(ToString(r.outcome) == "failed");
  // The record names the service that failed, and says the stack was rolled back.
  CHECK(r.reason.starts_with("b rolled-back: gate: healthcheck unhealthy"));
  CHECK(r.reason.ends_with("; the stack was rolled back: a, c"));
  REQUIRE(Find(r, "a") != nullptr);
  CHECK(ToString(Find(r, "a")->outcome) == "rolled-back");
  CHECK(Find(r, "a")->reason == "rolled back with the stack: b failed");
  CHECK(ToString(Find(r, "c")->outcome) == "rolled-back");
  CHECK(Find(r, "c")->reason == "removed with the stack: b failed");
  // a's previous container served throughout and serves on; the new ones are gone.
  CHECK(h.rt.IndexOf("stop web_a_1") == -1);
  CHECK(h.rt.containers.at(old_a).status == "running");
  CHECK(h.rt.containers.at(old_b).status == "running");
  CHECK(h.rt.ByName("web_a_1_podcd-next") == nullptr);
  CHECK(h.rt.ByName("web_b_1_podcd-next") == nullptr);
  CHECK(h.rt.ByName("web_c_1") == nullptr);
  CHECK(h.rt.containers.size() == 2);
}

TEST_CASE(
    "transaction: a service holding a host port waits stopped, and starts again when the stack rolls back") {
  Harness h;
  auto a = h.Service("a", core::Action::kRecreate, "localhost/bb:2", {8080});
  auto b = h.Service("b", core::Action::kRecreate, "localhost/bb:bad");
  b.depends_on = {{"a", DependencyCondition::kHealthy}};  // b only starts once a passed its gate
  const std::string old_a = a.old_containers[0];
  auto r = h.Apply({a, b});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.ends_with("; the stack was rolled back: a"));
  CHECK(ToString(Find(r, "a")->outcome) == "rolled-back");
  CHECK(h.rt.IndexOf("stop web_a_1") < h.rt.IndexOf("start web_a_1_podcd-next"));
  CHECK(h.rt.IndexOf("create web_b_1_podcd-next") > h.rt.IndexOf("start web_a_1_podcd-next"));
  CHECK(h.LastIndexOf("start web_a_1") > h.rt.IndexOf("remove web_a_1_podcd-next"));
  CHECK(h.rt.containers.at(old_a).status == "running");
  CHECK(h.rt.ByName("web_a_1_podcd-next") == nullptr);
  CHECK(h.rt.containers.size() == 2);
}

TEST_CASE("transaction: a skipped dependent fails the stack too; nothing of the commit stays") {
  Harness h;
  auto a = h.Service("a", core::Action::kRecreate);
  auto b = h.Service("b", core::Action::kCreate, "localhost/bb:bad");
  auto d = h.Service("d", core::Action::kCreate);
  d.depends_on = {{"b", DependencyCondition::kHealthy}};
  const std::string old_a = a.old_containers[0];
  auto r = h.Apply({a, b, d});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.starts_with("b failed: gate:"));
  CHECK(ToString(Find(r, "d")->outcome) == "skipped");
  CHECK(Find(r, "a")->reason == "rolled back with the stack: b, d failed");
  CHECK(h.rt.containers.size() == 1);
  CHECK(h.rt.containers.at(old_a).status == "running");
}

TEST_CASE("transaction: when every change passes, the previous containers go only after the last gate") {
  Harness h;
  h.rt.health_script["localhost/bb:2"] = {"starting", "starting", "starting", "healthy"};
  auto a = h.Service("a", core::Action::kRecreate, "localhost/bb:1");
  a.spec.image = "localhost/bb:1";
  auto b = h.Service("b", core::Action::kRecreate);
  b.has_healthcheck = true;
  b.health_interval = 1s;
  auto r = h.Apply({a, b});
  INFO(h.Log());
  REQUIRE(r.ok);
  CHECK(ToString(Find(r, "a")->outcome) == "recreated");
  CHECK(ToString(Find(r, "b")->outcome) == "recreated");
  const int last_check = h.LastIndexOf("health");
  REQUIRE(last_check >= 0);
  CHECK(h.rt.IndexOf("stop web_a_1") > last_check);
  CHECK(h.rt.IndexOf("remove web_a_1") > last_check);
  CHECK(h.rt.IndexOf("rename web_a_1_podcd-next web_a_1") > last_check);
  REQUIRE(h.rt.ByName("web_a_1") != nullptr);
  CHECK(h.rt.ByName("web_a_1")->labels.at("io.podcd.fingerprint") == "new");
  CHECK(h.rt.ByName("web_b_1")->labels.at("io.podcd.fingerprint") == "new");
  CHECK(h.rt.containers.size() == 2);
}

TEST_CASE("transaction: a namespace group is rolled back with the stack, the old owner before its joiners") {
  Harness h;
  auto vpn = h.Service("vpn", core::Action::kRecreate);
  auto app = h.Service("app", core::Action::kRecreate);
  app.joins = {"vpn"};
  app.shares_namespace = true;
  app.spec.network_mode = "container:web_vpn_1";
  vpn.joins = {};
  auto bad = h.Service("bad", core::Action::kRecreate, "localhost/bb:bad");
  auto r = h.Apply({vpn, app, bad});
  INFO(h.Log());
  CHECK_FALSE(r.ok);
  CHECK(r.reason.starts_with("bad rolled-back"));
  CHECK(ToString(Find(r, "vpn")->outcome) == "rolled-back");
  CHECK(ToString(Find(r, "app")->outcome) == "rolled-back");
  CHECK(h.LastIndexOf("start web_vpn_1") < h.LastIndexOf("start web_app_1"));
  CHECK(h.LastIndexOf("start web_vpn_1") > h.rt.IndexOf("remove web_vpn_1_podcd-next"));
  for (const auto& [id, c] : h.rt.containers) {
    INFO(c.name);
    CHECK_FALSE(c.name.ends_with("_podcd-next"));
    CHECK(c.status == "running");
    CHECK(c.labels.at("io.podcd.fingerprint") == "old");
  }
  CHECK(h.rt.containers.size() == 3);
}

// Once every gate passed, the stack has committed: a step of the commit that fails (Podman
// will not remove an old container, say because a container outside the stack joined its
// namespaces) must not send that one service back to its old container while the rest stays
// new. The old container is kept stopped under a retired name that the next run removes.
TEST_CASE(
    "transaction: an old container that cannot be removed after the commit is retired, not rolled back") {
  Harness h;
  auto a = h.Service("a", core::Action::kRecreate);
  auto b = h.Service("b", core::Action::kRecreate);
  const std::string old_a = a.old_containers.at(0);
  h.rt.fail_remove.insert("web_a_1");
  auto r = h.Apply({a, b});
  INFO(h.Log());
  CHECK(ToString(Find(r, "a")->outcome) == "recreated");
  CHECK(ToString(Find(r, "b")->outcome) == "recreated");
  CHECK(r.ok);
  REQUIRE(h.rt.ByName("web_a_1") != nullptr);
  CHECK(h.rt.ByName("web_a_1")->labels.at("io.podcd.fingerprint") == "new");
  CHECK(h.rt.ByName("web_a_1")->status == "running");
  CHECK(h.rt.ByName("web_b_1")->labels.at("io.podcd.fingerprint") == "new");
  // The old one: stopped, under a name the next run recognises as left over.
  REQUIRE(h.rt.containers.contains(old_a));
  CHECK(h.rt.containers.at(old_a).status != "running");
  CHECK(core::IsTemporaryName(h.rt.containers.at(old_a).name));
  CHECK(h.rt.containers.at(old_a).name == "web_a_1_podcd-old");
  CHECK(Find(r, "a")->reason.find("old container kept stopped as web_a_1_podcd-old") != std::string::npos);
  CHECK(Find(r, "a")->reason.find("device or resource busy") != std::string::npos);
}
