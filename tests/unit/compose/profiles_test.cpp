// Which services `profiles` enable, as docker compose decides it for `up`.
#include <catch2/catch.hpp>

#include "compose/loader.hpp"
#include "core/fingerprint.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::vector<std::string> Names(const core::Stack& s) {
  std::vector<std::string> out;
  for (const auto& svc : s.services) out.push_back(svc.name);
  return out;
}

const std::string kProfiled =
    "services:\n"
    "  web: {image: x}\n"
    "  debug: {image: x, profiles: [debug]}\n"
    "  tools: {image: x, profiles: [tools, ops]}\n";

}  // namespace

TEST_CASE("profiles: without COMPOSE_PROFILES only the services without profiles are deployed") {
  Repo repo;
  auto s = repo.Ok("p", kProfiled);
  CHECK(Names(s) == std::vector<std::string>{"web"});
  CHECK(s.disabled == std::vector<std::string>{"debug", "tools"});
}

TEST_CASE("profiles: COMPOSE_PROFILES in the stack's .env enables the services of any listed profile") {
  Repo repo;
  SECTION("one profile of a service's several") {
    repo.Write("services/p/.env", "COMPOSE_PROFILES=ops\n");
    auto s = repo.Ok("p", kProfiled);
    CHECK(Names(s) == std::vector<std::string>{"tools", "web"});
    CHECK(s.disabled == std::vector<std::string>{"debug"});
  }
  SECTION("a comma-separated list, blanks around names ignored") {
    repo.Write("services/p/.env", "COMPOSE_PROFILES=\" debug , tools\"\n");
    CHECK(Names(repo.Ok("p", kProfiled)) == std::vector<std::string>{"debug", "tools", "web"});
  }
  SECTION("* enables every profile") {
    repo.Write("services/p/.env", "COMPOSE_PROFILES=*\n");
    CHECK(Names(repo.Ok("p", kProfiled)) == std::vector<std::string>{"debug", "tools", "web"});
  }
  SECTION("podman-compose.env counts too, and an unknown profile enables nothing") {
    repo.Write("services/p/podman-compose.env", "COMPOSE_PROFILES=nope\n");
    CHECK(Names(repo.Ok("p", kProfiled)) == std::vector<std::string>{"web"});
  }
}

TEST_CASE("profiles: an enabled service's fingerprint does not depend on which others are enabled") {
  Repo repo;
  auto off = repo.Ok("p", kProfiled);
  repo.Write("services/p/.env", "COMPOSE_PROFILES=debug\n");
  auto on = repo.Ok("p", kProfiled);
  // .env is a file of the stack: compare what each service says, not the stack's files.
  on.files = off.files;
  CHECK(core::Fingerprint(core::Canonicalize(off, *off.Find("web"))) ==
        core::Fingerprint(core::Canonicalize(on, *on.Find("web"))));
}

TEST_CASE("profiles: a disabled service is still validated") {
  Repo repo;
  auto errors = repo.Errors("p",
                            "services:\n"
                            "  web: {image: x}\n"
                            "  debug: {image: x, profiles: [debug], restart: sometimes}\n");
  CHECK(Contains(errors, "services.debug.restart"));
  // A disabled service's references are checked as well.
  errors = repo.Errors("p",
                       "services:\n"
                       "  web: {image: x}\n"
                       "  debug: {image: x, profiles: [debug], depends_on: [nosuch]}\n");
  CHECK(Contains(errors, "unknown service \"nosuch\""));
}

TEST_CASE("profiles: an enabled service that needs a disabled one is refused, naming both (as compose up)") {
  Repo repo;
  SECTION("depends_on, short syntax") {
    auto errors = repo.Errors("p",
                              "services:\n"
                              "  web: {image: x, depends_on: [db]}\n"
                              "  db: {image: x, profiles: [db]}\n");
    INFO(errors);
    CHECK(Contains(errors, "services.web.depends_on"));
    CHECK(Contains(errors, "service \"web\" needs service \"db\""));
    CHECK(Contains(errors, "profiles (db)"));
    CHECK(Contains(errors, "COMPOSE_PROFILES"));
  }
  SECTION("depends_on, long syntax, from a service enabled by its own profile") {
    repo.Write("services/p/.env", "COMPOSE_PROFILES=app\n");
    auto errors =
        repo.Errors("p",
                    "services:\n"
                    "  web: {image: x, profiles: [app], depends_on: {db: {condition: service_healthy}}}\n"
                    "  db: {image: x, profiles: [db, test]}\n");
    INFO(errors);
    CHECK(Contains(errors, "services.web.depends_on.db"));
    CHECK(Contains(errors, "service \"web\" needs service \"db\""));
    CHECK(Contains(errors, "profiles (db, test)"));
  }
  SECTION("network_mode, pid and links") {
    auto errors = repo.Errors("p",
                              "services:\n"
                              "  a: {image: x, network_mode: \"service:vpn\"}\n"
                              "  b: {image: x, pid: \"service:vpn\"}\n"
                              "  c: {image: x, links: [vpn]}\n"
                              "  vpn: {image: x, profiles: [vpn]}\n");
    INFO(errors);
    CHECK(Contains(errors, "service \"a\" needs service \"vpn\""));
    CHECK(Contains(errors, "service \"b\" needs service \"vpn\""));
    CHECK(Contains(errors, "service \"c\" needs service \"vpn\""));
  }
  SECTION("enabled together: no error") {
    repo.Write("services/p/.env", "COMPOSE_PROFILES=db\n");
    auto s = repo.Ok("p",
                     "services:\n"
                     "  web: {image: x, depends_on: [db]}\n"
                     "  db: {image: x, profiles: [db]}\n");
    CHECK(Names(s) == std::vector<std::string>{"db", "web"});
  }
  SECTION("two disabled services may depend on each other") {
    auto s = repo.Ok("p",
                     "services:\n"
                     "  web: {image: x}\n"
                     "  a: {image: x, profiles: [t], depends_on: [b]}\n"
                     "  b: {image: x, profiles: [t]}\n");
    CHECK(Names(s) == std::vector<std::string>{"web"});
  }
}

TEST_CASE("profiles: depends_on with required: false on a disabled service is kept and not refused") {
  Repo repo;
  auto s = repo.Ok("p",
                   "services:\n"
                   "  web: {image: x, depends_on: {cache: {condition: service_started, required: false}}}\n"
                   "  cache: {image: x, profiles: [cache]}\n");
  CHECK(Names(s) == std::vector<std::string>{"web"});
  CHECK(s.Find("web")->depends_on.contains("cache"));
}

TEST_CASE("profiles: networks and volumes only a disabled service uses are not part of the stack") {
  Repo repo;
  auto s = repo.Ok("p",
                   "services:\n"
                   "  web: {image: x, networks: [front]}\n"
                   "  debug: {image: x, profiles: [debug], volumes: [\"dbg:/d\"]}\n"
                   "networks: {front: {}}\n"
                   "volumes: {dbg: {}}\n");
  CHECK(Names(s) == std::vector<std::string>{"web"});
  // The default network came only from `debug`; the declared `dbg` volume stays declared (as
  // in compose), and nothing mounts it.
  CHECK_FALSE(s.networks.contains("default"));
  CHECK(s.networks.contains("front"));
}

TEST_CASE("profiles: a stack whose every service is disabled loads with no services") {
  Repo repo;
  auto s = repo.Ok("p", "services:\n  debug: {image: x, profiles: [debug]}\n");
  CHECK(s.services.empty());
  CHECK(s.disabled == std::vector<std::string>{"debug"});
}
