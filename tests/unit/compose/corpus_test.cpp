// tests/corpus/multi-file: an environment repository in the style of real ones, whose stacks
// use extends, include and override files. Every stack loads, merged as compose merges it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "compose/loader.hpp"
#include "helpers.hpp"

using namespace podcd;
namespace fs = std::filesystem;

namespace {

const core::Service& Svc(const core::Stack& s, const std::string& name) {
  const auto* p = s.Find(name);
  if (p == nullptr) FAIL("no service " + name);
  return *p;
}

bool HasFile(const core::Service& s, const std::string& file) {
  return std::find(s.files.begin(), s.files.end(), file) != s.files.end();
}

}  // namespace

TEST_CASE("the multi-file corpus: every stack is valid, merged as compose merges it") {
  compose::LoadOptions options;
  options.repo_root = fs::path(PODCD_SOURCE_DIR) / "tests/corpus/multi-file";
  auto repo = compose::LoadRepository("services", options);
  REQUIRE(repo.has_value());
  for (const auto& [name, errors] : repo->invalid) FAIL(name + ":\n" + test::Join(errors));
  REQUIRE(repo->stacks.size() == 3);
  auto stack = [&](const std::string& name) -> const core::Stack& {
    for (const auto& s : repo->stacks) {
      if (s.dir == name) return s;
    }
    FAIL("no stack " + name);
    return repo->stacks.front();
  };

  const auto& wp = stack("wordpress");
  const auto& db = Svc(wp, "db");
  CHECK(db.image == "docker.io/library/mariadb:11.4");
  CHECK(db.environment.at("MARIADB_DATABASE") == "wordpress");  // the include's env_file
  CHECK(db.volumes[1].repo_path == "shared/mariadb/conf.d");
  CHECK(HasFile(db, "shared/mariadb/compose.yaml"));
  CHECK(wp.volumes.contains("db"));
  CHECK(wp.networks.contains("backend"));
  const auto& w = Svc(wp, "wordpress");
  REQUIRE(w.ports.size() == 1);
  CHECK(w.ports[0].host_ip == "127.0.0.1");
  CHECK_FALSE(w.environment.contains("WORDPRESS_DEBUG"));
  CHECK(w.environment.contains("WORDPRESS_CONFIG_EXTRA"));
  CHECK(w.labels.at("traefik.enable") == "false");
  CHECK(HasFile(w, "services/wordpress/compose.override.yaml"));
  CHECK_FALSE(HasFile(db, "services/wordpress/compose.override.yaml"));

  const auto& mon = stack("monitoring");
  const auto& ne = Svc(mon, "node-exporter");
  CHECK(ne.read_only);
  REQUIRE(ne.logging);
  CHECK(ne.logging->options.at("max-size") == "1m");
  CHECK(ne.logging->options.at("max-file") == "3");
  CHECK(ne.restart == "unless-stopped");
  CHECK(HasFile(ne, "services/monitoring/common.yml"));
  CHECK(Svc(mon, "grafana").environment.at("GF_USERS_ALLOW_SIGN_UP") == "false");
  CHECK(Svc(mon, "prometheus").volumes[0].repo_path == "services/monitoring/prometheus/prometheus.yml");

  const auto& app = stack("app");
  const auto& api = Svc(app, "api");
  REQUIRE(api.build);
  CHECK(api.build->args.at("VERSION") == "1.1");
  CHECK(api.environment.at("LOG_LEVEL") == "debug");
  CHECK(api.environment.at("REDIS_URL") == "redis://redis:6379");
  CHECK(api.depends_on.at("redis").restart);
  REQUIRE(api.healthcheck);
  CHECK(api.healthcheck->test.back() == "http://127.0.0.1:8000/health");
  CHECK(Svc(app, "redis").command == std::vector<std::string>{"redis-server", "--appendonly", "yes"});
}
