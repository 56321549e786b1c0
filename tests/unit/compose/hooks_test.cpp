// x-podcd.hooks: read through core::HookKeys(), refused with file, line and field when wrong,
// and part of the fingerprint of the service each names (and of no other).
#include <catch2/catch.hpp>
#include <chrono>

#include "core/fingerprint.hpp"
#include "core/policy.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {
bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
const std::string kServices = "services:\n  app: {image: x}\n  db: {image: y}\n";
}  // namespace

TEST_CASE("hooks: every hook and key is read, in the order they run") {
  Repo repo;
  auto s = repo.Ok("web", kServices + R"(x-podcd:
  hooks:
    post_deploy: {service: app, command: "./notify done"}
    pre_deploy: {service: db, command: [migrate, --up], timeout: 5m}
    prepare: {service: app, command: [prepare]}
    check: {service: app, command: [check], host: true, timeout: 10s}
)");
  REQUIRE(s.hooks.size() == 4);
  CHECK(s.hooks[0].name == "check");
  CHECK(s.hooks[0].host);
  CHECK(s.hooks[0].timeout == 10s);
  CHECK(s.hooks[1].name == "prepare");
  CHECK(s.hooks[1].timeout == 2min);  // the default
  CHECK(s.hooks[2].name == "pre_deploy");
  CHECK(s.hooks[2].service == "db");
  CHECK(s.hooks[2].command == std::vector<std::string>{"migrate", "--up"});
  CHECK(s.hooks[2].timeout == 5min);
  CHECK_FALSE(s.hooks[2].host);
  CHECK(s.hooks[3].name == "post_deploy");
  CHECK(s.hooks[3].command == std::vector<std::string>{"./notify", "done"});
}

TEST_CASE("hooks: bad input names the file, line and field") {
  Repo repo;
  auto e =
      repo.Errors("web", kServices + "x-podcd:\n  hooks:\n    predeploy: {service: app, command: [x]}\n");
  CHECK(Contains(e, "services/web/compose.yml:6"));
  CHECK(
      Contains(e,
               "x-podcd.hooks.predeploy: unknown hook \"predeploy\" (podcd runs check, prepare, pre_deploy, "
               "post_deploy)"));
  e = repo.Errors("web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: nope, command: [x]}\n");
  CHECK(Contains(e, "x-podcd.hooks.pre_deploy.service: refers to unknown service \"nope\""));
  CHECK(Contains(e, "compose.yml:6"));
  e = repo.Errors(
      "web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [x], timeout: soon}\n");
  CHECK(Contains(e, "x-podcd.hooks.pre_deploy.timeout"));
  e = repo.Errors(
      "web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [x], timeout: 0s}\n");
  CHECK(Contains(e, "x-podcd.hooks.pre_deploy.timeout: must be above zero"));
  e = repo.Errors("web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: []}\n");
  CHECK(Contains(e, "x-podcd.hooks.pre_deploy.command: is empty"));
  e = repo.Errors("web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app}\n");
  CHECK(Contains(e, "x-podcd.hooks.pre_deploy.command: is missing"));
  e = repo.Errors(
      "web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [x], user: root}\n");
  CHECK(Contains(e, "unsupported key \"user\""));
  e = repo.Errors("web", kServices + "x-podcd:\n  hook: {}\n");
  CHECK(Contains(e, "x-podcd.hook: unsupported key \"hook\""));
  // Other x- keys stay free for anchors.
  CHECK(repo.Ok("web", kServices + "x-common: {a: 1}\n").hooks.empty());
}

TEST_CASE("hooks: part of the fingerprint of the service they name, of no other") {
  Repo repo;
  auto plain = repo.Ok("web", kServices);
  auto hooked =
      repo.Ok("web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [m]}\n");
  auto changed =
      repo.Ok("web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [n]}\n");
  auto longer = repo.Ok(
      "web", kServices + "x-podcd:\n  hooks:\n    pre_deploy: {service: app, command: [n], timeout: 9m}\n");
  auto fp = [](const core::Stack& s, const std::string& svc) { return core::Fingerprint(s, *s.Find(svc)); };
  CHECK(fp(plain, "db") == fp(hooked, "db"));
  CHECK(fp(plain, "app") != fp(hooked, "app"));
  CHECK(fp(hooked, "app") != fp(changed, "app"));
  CHECK(fp(changed, "app") != fp(longer, "app"));
  auto fields = core::Canonicalize(hooked, *hooked.Find("app"));
  CHECK(fields.at("hook pre_deploy") ==
        R"({"command":["m"],"host":false,"service":"app","timeout":120000000000})");
}

TEST_CASE("hooks: a host hook needs the host_hooks allowance") {
  Repo repo;
  auto s = repo.Ok(
      "web",
      kServices +
          "x-podcd:\n  hooks:\n    check: {service: app, command: [./control.sh, check], host: true}\n");
  core::PolicySettings policy;
  auto v = core::CheckPolicy(s, policy);
  REQUIRE(v.size() == 1);
  CHECK(v[0].rule == "host_hooks");
  CHECK(Contains(v[0].reason, "hook check: host: true is refused by policy"));
  CHECK(Contains(v[0].reason, "allow rule host_hooks for stack web"));
  policy.allow["web"] = {"host_hooks"};
  CHECK(core::CheckPolicy(s, policy).empty());
  // A container hook needs nothing more than its service.
  auto c = repo.Ok("web", kServices + "x-podcd:\n  hooks:\n    check: {service: app, command: [check]}\n");
  CHECK(core::CheckPolicy(c, core::PolicySettings{}).empty());
}
