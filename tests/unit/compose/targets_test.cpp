// Mount targets in their clean form, as docker compose writes them.
#include <catch2/catch.hpp>

#include "compose/loader.hpp"
#include "core/fingerprint.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::vector<std::string> Targets(const core::Service& s) {
  std::vector<std::string> out;
  for (const auto& m : s.volumes) out.push_back(m.target);
  return out;
}

}  // namespace

TEST_CASE("mount targets are cleaned as docker compose does (path.Clean)") {
  Repo repo;
  repo.Write("services/t/conf/a", "x\n");
  auto s = repo.Ok("t",
                   "services:\n"
                   "  web:\n"
                   "    image: x\n"
                   "    volumes:\n"
                   "      - data:/data/\n"
                   "      - ./conf:/etc//conf/./x/\n"
                   "      - /./anon\n"
                   "      - {type: bind, source: ./conf, target: /srv/a/../b/}\n"
                   "      - {type: volume, source: data, target: \"/var//lib/\"}\n"
                   "      - {type: tmpfs, target: /cache/}\n"
                   "      - {type: tmpfs, target: /}\n"
                   "    tmpfs: [\"/run/\", \"/tmp//x/:size=1m,mode=1777\"]\n"
                   "volumes: {data: {}}\n");
  const auto& web = *s.Find("web");
  CHECK(Targets(web) ==
        std::vector<std::string>{"/data", "/etc/conf/x", "/anon", "/srv/b", "/var/lib", "/cache", "/"});
  CHECK(web.tmpfs == std::vector<std::string>{"/run", "/tmp/x:size=1m,mode=1777"});
}

TEST_CASE("a target spelt with a trailing slash has the fingerprint of the clean spelling") {
  Repo repo;
  auto plain =
      repo.Ok("t", "services: {web: {image: x, volumes: [\"d:/data\"], tmpfs: /run}}\nvolumes: {d: {}}\n");
  auto slash =
      repo.Ok("t", "services: {web: {image: x, volumes: [\"d:/data/\"], tmpfs: /run/}}\nvolumes: {d: {}}\n");
  CHECK(core::Fingerprint(core::Canonicalize(plain, plain.services[0])) ==
        core::Fingerprint(core::Canonicalize(slash, slash.services[0])));
}

TEST_CASE("CleanContainerPath follows Go's path.Clean") {
  using compose::CleanContainerPath;
  CHECK(CleanContainerPath("/data/") == "/data");
  CHECK(CleanContainerPath("/data//x/") == "/data/x");
  CHECK(CleanContainerPath("/./data") == "/data");
  CHECK(CleanContainerPath("/a/b/../c/.") == "/a/c");
  CHECK(CleanContainerPath("/../a") == "/a");
  CHECK(CleanContainerPath("/") == "/");
  CHECK(CleanContainerPath("//") == "/");
  CHECK(CleanContainerPath("/data") == "/data");
  CHECK(CleanContainerPath("rel/./x/") == "rel/x");
  CHECK(CleanContainerPath("") == ".");
}
