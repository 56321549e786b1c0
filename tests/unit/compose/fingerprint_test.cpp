// Fingerprints: stable under comments, key order and other stacks; sensitive to every field
// kind and every referenced-file kind.
#include "core/fingerprint.hpp"

#include <catch2/catch.hpp>

#include <set>

#include "golden_fixtures.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string Fp(const Repo& repo, const std::string& stack, const std::string& yaml,
               const std::string& service = "app") {
  auto r = repo.Load(stack, yaml);
  if (!r) FAIL(Join(r.error()));
  const auto* s = r->Find(service);
  REQUIRE(s != nullptr);
  return core::Fingerprint(*r, *s);
}

core::CanonicalFields Canon(const Repo& repo, const std::string& stack, const std::string& yaml) {
  auto r = repo.Load(stack, yaml);
  if (!r) FAIL(Join(r.error()));
  return core::Canonicalize(*r, *r->Find("app"));
}

// The base stack; tests/unit/compose/golden_fixtures.hpp pins its canonical form.
const char* const kBase = test::kGoldenBase;

void WriteFiles(const Repo& repo) {
  repo.Write("services/web/nginx.conf", "server{}\n");
  repo.Write("services/web/html/index.html", "<h1>hi</h1>\n");
  repo.Write("services/web/html/sub/a.css", "a{}\n");
  repo.Write("services/web/app.env", "E=1\n");
  repo.Write("services/web/cfg.conf", "c=1\n");
  repo.Write("secrets/tok.txt", "token\n");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  REQUIRE(p != std::string::npos);
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("fingerprints ignore comments, key order, quoting style and other stacks") {
  Repo repo;
  WriteFiles(repo);
  auto base = Fp(repo, "web", kBase);
  CHECK(base.size() == 64);
  CHECK(Fp(repo, "web", kBase) == base);
  CHECK(Fp(repo, "web", std::string("# a comment\n") + kBase + "# trailing\n") == base);
  const char* reordered = R"(
secrets: {tok: {file: ../../secrets/tok.txt}}
configs: {cfg: {file: ./cfg.conf}}
volumes: {data: null}
services:
  other: {image: busybox}
  app:
    labels: {x: "y"}
    secrets: [tok]
    configs: [cfg]
    env_file: [app.env]
    volumes: ["./nginx.conf:/etc/nginx.conf:ro", "./html:/html", "data:/data"]
    ports: ["8080:80"]
    environment: [B=2, A=1]   # list syntax, other order
    image: 'nginx:1'
)";
  CHECK(Fp(repo, "web", reordered) == base);
  // Another stack appearing, changing or its files changing leaves this one alone.
  repo.Write("services/api/compose.yml", "services: {app: {image: api}}\n");
  repo.Write("services/api/x.conf", "1");
  CHECK(Fp(repo, "web", kBase) == base);
  // A change to another service of the same stack does not touch this service.
  CHECK(Fp(repo, "web", Replace(kBase, "image: busybox", "image: busybox:2")) == base);
  // A variable that resolves to the same value gives the same fingerprint; .env comments
  // change nothing; a different value changes it.
  repo.Write("services/web/.env", "TAG=1\n");
  CHECK(Fp(repo, "web", Replace(kBase, "nginx:1", "nginx:${TAG}")) == base);
  repo.Write("services/web/.env", "# comment only\nTAG=1\nUNUSED=x\n");
  CHECK(Fp(repo, "web", Replace(kBase, "nginx:1", "nginx:${TAG}")) == base);
  repo.Write("services/web/.env", "TAG=2\n");
  CHECK(Fp(repo, "web", Replace(kBase, "nginx:1", "nginx:${TAG}")) != base);
}

TEST_CASE("fingerprints change with every field kind") {
  Repo repo;
  WriteFiles(repo);
  auto base = Fp(repo, "web", kBase);
  std::vector<std::pair<std::string, std::string>> edits = {
      {"image: nginx:1", "image: nginx:2"},
      {"A: \"1\"", "A: \"changed\""},
      {"\"8080:80\"", "\"8081:80\""},
      {"/etc/nginx.conf:ro", "/etc/nginx.conf"},
      {"labels: {x: y}", "labels: {x: z}"},
      {"labels: {x: y}", "labels: {x: y}\n    restart: always"},
      {"labels: {x: y}", "labels: {x: y}\n    command: [a]"},
      {"labels: {x: y}", "labels: {x: y}\n    healthcheck: {test: [CMD, x], interval: 5s}"},
      {"labels: {x: y}", "labels: {x: y}\n    mem_limit: 1g"},
      {"labels: {x: y}", "labels: {x: y}\n    cap_add: [NET_ADMIN]"},
      {"labels: {x: y}", "labels: {x: y}\n    networks: [default]\n    dns: [1.1.1.1]"},
      {"labels: {x: y}", "labels: {x: y}\n    user: \"1000\""},
      {"labels: {x: y}", "labels: {x: y}\n    stop_grace_period: 1m"},
      {"labels: {x: y}", "labels: {x: y}\n    depends_on: [other]"},
      {"data:\nconfigs", "data: {driver: local}\nconfigs"},
      {"secrets: [tok]", "secrets: [{source: tok, target: /x}]"},
  };
  std::set<std::string> seen{base};
  for (const auto& [from, to] : edits) {
    INFO(to);
    auto fp = Fp(repo, "web", Replace(kBase, from, to));
    CHECK(fp != base);
    seen.insert(fp);
  }
  CHECK(seen.size() == edits.size() + 1);
}

TEST_CASE("fingerprints change with every referenced-file kind") {
  Repo repo;
  WriteFiles(repo);
  auto base = Fp(repo, "web", kBase);
  std::vector<std::pair<std::string, std::string>> files = {
      {"services/web/app.env", "E=2\n"},                   // env file
      {"services/web/nginx.conf", "server{listen 1;}\n"},  // bind file
      {"services/web/html/sub/a.css", "a{color:red}\n"},   // bind directory, nested file
      {"services/web/html/new.txt", "new\n"},              // bind directory, new file
      {"services/web/cfg.conf", "c=2\n"},                  // config
      {"secrets/tok.txt", "rotated\n"},                    // secret
  };
  for (const auto& [path, text] : files) {
    INFO(path);
    WriteFiles(repo);
    std::filesystem::remove(repo.Root() / "services/web/html/new.txt");
    REQUIRE(Fp(repo, "web", kBase) == base);
    repo.Write(path, text);
    CHECK(Fp(repo, "web", kBase) != base);
  }
  // The other service references none of them.
  WriteFiles(repo);
  std::filesystem::remove(repo.Root() / "services/web/html/new.txt");
  auto other = Fp(repo, "web", kBase, "other");
  repo.Write("services/web/nginx.conf", "changed\n");
  CHECK(Fp(repo, "web", kBase, "other") == other);
  // A .git directory inside a bind directory is not part of its digest.
  WriteFiles(repo);
  std::filesystem::remove(repo.Root() / "services/web/html/new.txt");
  REQUIRE(Fp(repo, "web", kBase) == base);
  repo.Write("services/web/html/.git/HEAD", "ref: x\n");
  CHECK(Fp(repo, "web", kBase) == base);
  std::filesystem::remove_all(repo.Root() / "services/web/html/.git");
  // A renamed file in a bind directory changes it too.
  WriteFiles(repo);
  std::filesystem::rename(repo.Root() / "services/web/html/sub/a.css",
                          repo.Root() / "services/web/html/sub/b.css");
  CHECK(Fp(repo, "web", kBase) != base);
}

TEST_CASE("ChangedFields names what changed") {
  Repo repo;
  WriteFiles(repo);
  auto before = Canon(repo, "web", kBase);
  repo.Write("services/web/nginx.conf", "changed\n");
  auto after =
      Canon(repo, "web", Replace(Replace(kBase, "A: \"1\"", "A: \"2\", C: \"3\""), "nginx:1", "nginx:2"));
  auto changed = core::ChangedFields(before, after);
  CHECK(changed ==
        std::vector<std::string>{"environment.A", "environment.C", "file services/web/nginx.conf", "image"});
  CHECK(core::ChangedFields(before, before).empty());
  CHECK(core::ChangedFields(core::Digests(before), core::Digests(after)) == changed);
  for (const auto& [k, v] : core::Digests(after)) CHECK(v.size() == 64);
  CHECK(core::Fingerprint(before) != core::Fingerprint(after));
}
