// A stack made of several files: `extends` (same file, another file of the stack), top-level
// `include`, override files (compose.override.yaml and the other names) with `!reset` and
// `!override`; the compose specification's merge rules; where errors point; the fingerprint
// of exactly the services each file shapes; the bounds on hostile fan-outs.
#include <catch2/catch.hpp>

#include <chrono>

#include "core/fingerprint.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;
namespace fs = std::filesystem;

namespace {

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const core::Service& Svc(const core::Stack& s, const std::string& name) {
  const auto* p = s.Find(name);
  if (p == nullptr) FAIL("no service " + name);
  return *p;
}

std::vector<std::string> Targets(const core::Service& s) {
  std::vector<std::string> out;
  for (const auto& m : s.volumes) out.push_back(m.target + "=" + m.source);
  return out;
}

core::Stack LoadOk(const Repo& repo, const std::string& stack) {
  auto r = compose::LoadStack(repo.Dir(stack), repo.options);
  if (!r) FAIL(Join(r.error()));
  return std::move(*r);
}

}  // namespace

// ---------- extends

TEST_CASE("extends in the same file: mappings merge, sequences append, command replaces") {
  Repo repo;
  auto s = repo.Ok("p", R"(services:
  base:
    image: busybox
    command: [sleep, "1"]
    environment: {A: "1", B: "2"}
    labels: [x=1]
    dns: [1.1.1.1]
    ports: ["8080:80"]
    volumes: [data:/data]
  app:
    extends: base
    command: [sleep, "2"]
    environment: [B=3, C=4]
    labels: {y: "2"}
    dns: [8.8.8.8]
    ports: ["8080:80", "9090:90"]
    volumes: [other:/data]
volumes: {data: {}, other: {}}
)");
  const auto& app = Svc(s, "app");
  CHECK(app.image == "busybox");
  CHECK(app.command == std::vector<std::string>{"sleep", "2"});
  CHECK(app.environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}, {"C", "4"}});
  CHECK(app.labels == std::map<std::string, std::string>{{"x", "1"}, {"y", "2"}});
  CHECK(app.dns == std::vector<std::string>{"1.1.1.1", "8.8.8.8"});
  CHECK(app.ports.size() == 2);                // the same published port once
  CHECK(Targets(app).size() == 1);             // volumes are unique by target
  CHECK(Contains(Targets(app)[0], "/data="));  // the later one wins
  CHECK(app.volumes[0].source == "other");
  // The base stays a service of its own.
  CHECK(Svc(s, "base").command == std::vector<std::string>{"sleep", "1"});
}

TEST_CASE("extends: depends_on, networks, build and logging merge per the specification") {
  Repo repo;
  repo.Write("services/p/Containerfile", "FROM busybox\n");
  auto s = repo.Ok("p", R"(services:
  db: {image: busybox}
  cache: {image: busybox}
  base:
    build: .
    depends_on: [db]
    networks: [front]
    logging: {driver: json-file, options: {max-size: 1m}}
    healthcheck: {test: [CMD, "true"], interval: 10s}
  app:
    extends: {service: base}
    build: {args: {V: "1"}}
    depends_on: {cache: {condition: service_started}}
    networks: {back: {aliases: [b]}}
    logging: {options: {max-file: "2"}}
    healthcheck: {test: [CMD, "false"]}
networks: {front: {}, back: {}}
)");
  const auto& app = Svc(s, "app");
  REQUIRE(app.build);
  CHECK(app.build->args.at("V") == "1");
  CHECK(app.build->context_key == "services/p");
  CHECK(app.depends_on.contains("db"));
  CHECK(app.depends_on.contains("cache"));
  CHECK(app.networks.contains("front"));
  CHECK(app.networks.contains("back"));
  REQUIRE(app.logging);
  CHECK(app.logging->options.size() == 2);
  REQUIRE(app.healthcheck);
  CHECK(app.healthcheck->test == std::vector<std::string>{"CMD", "false"});
  CHECK(app.healthcheck->interval == std::chrono::seconds(10));
}

TEST_CASE("extends another file of the stack: its relative paths are its directory's; chains") {
  Repo repo;
  repo.Write("services/p/common/app.conf", "x\n");
  repo.Write("services/p/common/base.yml", R"(services:
  root:
    image: busybox
    environment: {LEVEL: root}
  web:
    extends: root
    volumes: ["./app.conf:/etc/app.conf:ro"]
    environment: {LEVEL: web}
)");
  repo.Write("services/p/compose.yml", R"(services:
  app:
    extends: {file: common/base.yml, service: web}
    environment: {OWN: "1"}
)");
  auto s = LoadOk(repo, "p");
  const auto& app = Svc(s, "app");
  CHECK(app.image == "busybox");
  CHECK(app.environment == std::map<std::string, std::string>{{"LEVEL", "web"}, {"OWN", "1"}});
  REQUIRE(app.volumes.size() == 1);
  CHECK(app.volumes[0].repo_path == "services/p/common/app.conf");
  // The services of the other file are not part of the stack.
  CHECK(s.Find("web") == nullptr);
  CHECK(s.Find("root") == nullptr);
  // The extended file is part of app's fingerprint.
  CHECK(std::find(app.files.begin(), app.files.end(), "services/p/common/base.yml") != app.files.end());
}

TEST_CASE("extends: cycles are refused with the chain, unknown services and files with their place") {
  Repo repo;
  auto cycle = repo.Errors("p", R"(services:
  a: {extends: b, image: x}
  b: {extends: c, image: x}
  c: {extends: a, image: x}
)");
  CHECK(Contains(cycle, "extends cycle"));
  CHECK(Contains(cycle, "a -> b -> c -> a"));
  auto self = repo.Errors("p", "services:\n  a: {extends: a, image: x}\n");
  CHECK(Contains(self, "a -> a"));
  auto unknown = repo.Errors("p", "services:\n  a:\n    image: x\n    extends: {service: nope}\n");
  CHECK(Contains(unknown, "services/p/compose.yml:4:"));
  CHECK(Contains(unknown, "\"nope\""));
  auto missing = repo.Errors("p", "services:\n  a: {image: x, extends: {file: none.yml, service: a}}\n");
  CHECK(Contains(missing, "none.yml"));
  CHECK(Contains(missing, "services/p/compose.yml:2:"));
  // Outside the stack's directory (even inside the repository).
  repo.Write("services/q/compose.yml", "services: {w: {image: x}}\n");
  auto outside = repo.Errors("p", "services:\n  a: {extends: {file: ../q/compose.yml, service: w}}\n");
  CHECK(Contains(outside, "outside the stack's directory"));
  auto bad = repo.Errors("p", "services:\n  a: {image: x, extends: {service: a, files: x}}\n");
  CHECK(Contains(bad, "unsupported key \"files\""));
}

TEST_CASE("an error in an extended file names that file and its line") {
  Repo repo;
  repo.Write("services/p/base.yml", "services:\n  web:\n    image: busybox\n    privileged: maybe\n");
  auto err = repo.Errors("p", "services:\n  app: {extends: {file: base.yml, service: web}}\n");
  CHECK(Contains(err, "services/p/base.yml:4:17"));
  CHECK(Contains(err, "privileged"));
}

// ---------- include

TEST_CASE("include: the included file's resources join the stack, its paths are its own") {
  Repo repo;
  repo.Write("shared/db/init.sql", "select 1;\n");
  repo.Write("shared/db/compose.yml", R"(services:
  db:
    image: busybox
    volumes: ["./init.sql:/init.sql:ro", "dbdata:/var/lib/db"]
    networks: [backend]
networks: {backend: {}}
volumes: {dbdata: {}}
)");
  auto s = repo.Ok("p", R"(include:
  - ../../shared/db/compose.yml
services:
  app:
    image: busybox
    depends_on: [db]
    networks: [backend]
)");
  const auto& db = Svc(s, "db");
  REQUIRE(db.volumes.size() == 2);
  CHECK(db.volumes[0].repo_path == "shared/db/init.sql");
  CHECK(s.networks.contains("backend"));
  CHECK(s.volumes.contains("dbdata"));
  CHECK(s.volumes.at("dbdata").name == "p_dbdata");
  CHECK(std::find(db.files.begin(), db.files.end(), "shared/db/compose.yml") != db.files.end());
  const auto& app = Svc(s, "app");
  CHECK(std::find(app.files.begin(), app.files.end(), "shared/db/compose.yml") == app.files.end());
}

TEST_CASE("include: long form with project_directory and env_file") {
  Repo repo;
  repo.Write("shared/web/compose.yml", R"(services:
  web:
    image: "busybox:${TAG}"
    volumes: ["./site:/www:ro"]
)");
  repo.Write("shared/web/root/site/index.html", "hi\n");
  repo.Write("services/p/web.env", "TAG=1.36\n");
  auto s = repo.Ok("p", R"(include:
  - path: ../../shared/web/compose.yml
    project_directory: ../../shared/web/root
    env_file: web.env
services:
  app: {image: busybox}
)");
  const auto& web = Svc(s, "web");
  CHECK(web.image == "busybox:1.36");
  REQUIRE(web.volumes.size() == 1);
  CHECK(web.volumes[0].repo_path == "shared/web/root/site");
  auto bad = repo.Errors("p", "include:\n  - {path: x.yml, project: y}\nservices: {a: {image: x}}\n");
  CHECK(Contains(bad, "unsupported key \"project\""));
}

TEST_CASE("include: outside the repository, through a symlink, cycles and conflicts are refused") {
  Repo repo;
  repo.tmp.Write("outside.yml", "services: {evil: {image: x}}\n");
  auto out = repo.Errors("p", "include: [../../../outside.yml]\nservices: {a: {image: x}}\n");
  CHECK(Contains(out, "points outside the repository"));
  CHECK(Contains(out, "services/p/compose.yml:1:"));
  fs::create_directories(repo.Root() / "services/p");
  fs::create_symlink(repo.tmp.path() / "outside.yml", repo.Root() / "services/p/link.yml");
  auto link = repo.Errors("p", "include: [link.yml]\nservices: {a: {image: x}}\n");
  CHECK(Contains(link, "resolves through a symlink"));

  repo.Write("services/p/one.yml", "include: [two.yml]\nservices: {one: {image: x}}\n");
  repo.Write("services/p/two.yml", "include: [one.yml]\nservices: {two: {image: x}}\n");
  auto cycle = repo.Errors("p", "include: [one.yml]\nservices: {a: {image: x}}\n");
  CHECK(Contains(cycle, "include cycle"));
  CHECK(Contains(cycle, "services/p/one.yml -> services/p/two.yml -> services/p/one.yml"));

  repo.Write("services/p/dup.yml", "services:\n  a: {image: y}\n");
  auto dup = repo.Errors("p", "include: [dup.yml]\nservices:\n  a: {image: x}\n");
  CHECK(Contains(dup, "services.a"));
  CHECK(Contains(dup, "services/p/dup.yml:2:"));
  CHECK(Contains(dup, "services/p/compose.yml:3:"));

  repo.Write("services/p/badkey.yml", "services:\n  b:\n    image: x\n    privileged: maybe\n");
  auto inner = repo.Errors("p", "include: [badkey.yml]\nservices: {a: {image: x}}\n");
  CHECK(Contains(inner, "services/p/badkey.yml:4:17"));
}

// ---------- override files

TEST_CASE("compose.override.yaml merges onto the compose file; !reset and !override") {
  Repo repo;
  repo.Write("services/p/compose.override.yaml", R"(services:
  a:
    environment: {B: "2"}
    ports: !reset []
    dns: !override [9.9.9.9]
    labels:
      drop: !reset null
  c: {image: busybox}
)");
  auto s = repo.Ok("p", R"(services:
  a:
    image: busybox
    environment: {A: "1"}
    ports: ["8080:80"]
    dns: [1.1.1.1]
    labels: {keep: "1", drop: "1"}
  b: {image: busybox}
)");
  const auto& a = Svc(s, "a");
  CHECK(a.environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}});
  CHECK(a.ports.empty());
  CHECK(a.dns == std::vector<std::string>{"9.9.9.9"});
  CHECK(a.labels == std::map<std::string, std::string>{{"keep", "1"}});
  CHECK(s.Find("c") != nullptr);
  CHECK(std::find(a.files.begin(), a.files.end(), "services/p/compose.override.yaml") != a.files.end());
  const auto& b = Svc(s, "b");
  CHECK(std::find(b.files.begin(), b.files.end(), "services/p/compose.override.yaml") == b.files.end());
}

TEST_CASE("override files: the other names, two at once refused, errors name the override") {
  for (const char* name :
       {"compose.override.yml", "docker-compose.override.yml", "docker-compose.override.yaml"}) {
    Repo repo;
    repo.Write(std::string("services/p/") + name, "services:\n  a: {environment: {X: \"1\"}}\n");
    auto s = repo.Ok("p", "services:\n  a: {image: busybox}\n");
    CHECK(Svc(s, "a").environment.at("X") == "1");
  }
  Repo repo;
  repo.Write("services/p/compose.override.yml", "services: {}\n");
  repo.Write("services/p/compose.override.yaml", "services: {}\n");
  CHECK(Contains(repo.Errors("p", "services:\n  a: {image: busybox}\n"), "more than one override file"));

  Repo bad;
  bad.Write("services/p/compose.override.yaml", "services:\n  a:\n    read_only: perhaps\n");
  auto err = bad.Errors("p", "services:\n  a: {image: busybox}\n");
  CHECK(Contains(err, "services/p/compose.override.yaml:3:16"));
  Repo clash;
  clash.Write("services/p/compose.override.yaml", "services:\n  a:\n    ports: {x: 1}\n");
  auto type = clash.Errors("p", "services:\n  a: {image: busybox, ports: [\"80\"]}\n");
  CHECK(Contains(type, "services/p/compose.override.yaml:3:"));
  CHECK(Contains(type, "services.a.ports"));
}

// ---------- the fingerprint of exactly the services a file shapes

TEST_CASE("a change to an override, extended or included file changes only the services it shapes") {
  Repo repo;
  repo.Write("services/p/compose.yml", R"(include: [inc.yml]
services:
  a: {image: busybox}
  b: {image: busybox}
  c: {extends: {file: base.yml, service: c}}
)");
  repo.Write("services/p/compose.override.yaml", "services:\n  a: {environment: {X: \"1\"}}\n");
  repo.Write("services/p/base.yml", "services:\n  c: {image: busybox}\n");
  repo.Write("services/p/inc.yml", "services:\n  d: {image: busybox}\n");
  auto before = LoadOk(repo, "p");
  auto fp = [](const core::Stack& s) {
    std::map<std::string, std::string> out;
    for (const auto& svc : s.services) out[svc.name] = core::Fingerprint(s, svc);
    return out;
  };
  auto f0 = fp(before);
  // A comment in the override: a changes (the file is in its fingerprint), nothing else.
  repo.Write("services/p/compose.override.yaml", "# note\nservices:\n  a: {environment: {X: \"1\"}}\n");
  auto f1 = fp(LoadOk(repo, "p"));
  CHECK(f1["a"] != f0["a"]);
  CHECK(f1["b"] == f0["b"]);
  CHECK(f1["c"] == f0["c"]);
  CHECK(f1["d"] == f0["d"]);
  repo.Write("services/p/base.yml", "services:\n  c: {image: busybox, init: true}\n");
  auto f2 = fp(LoadOk(repo, "p"));
  CHECK(f2["c"] != f1["c"]);
  CHECK(f2["a"] == f1["a"]);
  CHECK(f2["b"] == f1["b"]);
  CHECK(f2["d"] == f1["d"]);
  repo.Write("services/p/inc.yml", "services:\n  d: {image: busybox, init: true}\n");
  auto f3 = fp(LoadOk(repo, "p"));
  CHECK(f3["d"] != f2["d"]);
  CHECK(f3["a"] == f2["a"]);
  CHECK(f3["b"] == f2["b"]);
  CHECK(f3["c"] == f2["c"]);
}

// ---------- bounds

TEST_CASE("hostile fan-outs of includes and extends stop at podcd's limits, quickly") {
  Repo repo;
  // Each file includes the next one twice (as a path list): 2^30 loads without a bound.
  for (int i = 0; i < 30; ++i) {
    repo.Write("services/p/f" + std::to_string(i) + ".yml",
               "include:\n  - path: [f" + std::to_string(i + 1) + ".yml, f" + std::to_string(i + 1) +
                   ".yml]\nservices: {s" + std::to_string(i) + ": {image: x}}\n");
  }
  repo.Write("services/p/f30.yml", "services: {last: {image: x}}\n");
  auto t0 = std::chrono::steady_clock::now();
  auto err = repo.Errors("p", "include: [f0.yml]\nservices: {a: {image: x}}\n");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
  CHECK(Contains(err, "podcd's limit"));

  // A long chain of extends.
  std::string chain = "services:\n  s0: {image: x}\n";
  for (int i = 1; i < 100; ++i) {
    chain += "  s" + std::to_string(i) + ": {extends: s" + std::to_string(i - 1) + "}\n";
  }
  CHECK(Contains(repo.Errors("q", chain), "podcd's limit"));
}

// ---------- the merge rules, form by form

TEST_CASE("merge rules: unique keys of ports, secrets, configs, env_file; logging; extra_hosts; tags") {
  Repo repo;
  repo.Write("services/p/a.env", "A=1\n");
  repo.Write("services/p/s.txt", "s\n");
  repo.Write("services/p/compose.override.yaml", R"(services:
  a:
    ports:
      - {target: 80, published: "8080", host_ip: 127.0.0.1}
      - "9000:9000/udp"
    secrets:
      - {source: t, target: /run/secrets/s}
    configs: [{source: c, target: /etc/c2}]
    env_file: [a.env]
    extra_hosts: ["db=10.0.0.2", "cache=10.0.0.3"]
    logging: {driver: journald}
    ulimits: {nofile: {soft: 10, hard: 20}}
    command: !reset null
  b:
    logging: {options: {max-file: "2"}}
    networks: !override [front]
    x-note: !reset
)");
  auto s = repo.Ok("p", R"(services:
  a:
    image: busybox
    command: [sleep, "1"]
    ports:
      - {target: 80, published: "8080", host_ip: 127.0.0.1, protocol: tcp}
      - "9000:9000/tcp"
    secrets: [s]
    configs: [{source: c, target: /etc/c}]
    env_file: [a.env]
    extra_hosts: ["db=10.0.0.2"]
    logging: {driver: json-file, options: {max-size: 1m}}
    ulimits: {nofile: 5, nproc: 100}
  b:
    image: busybox
    logging: {driver: json-file, options: {max-size: 1m}}
    networks: [front, back]
    x-note: 1
networks: {front: {}, back: {}}
secrets:
  s: {file: s.txt}
  t: {file: s.txt}
configs:
  c: {file: s.txt}
)");
  const auto& a = Svc(s, "a");
  CHECK(a.ports.size() == 3);      // 80 keyed alike: once; 9000 tcp and udp: two
  REQUIRE(a.secrets.size() == 1);  // /run/secrets/s: the later one
  CHECK(a.secrets[0].source == "t");
  CHECK(a.configs.size() == 2);  // /etc/c and /etc/c2
  CHECK(a.extra_hosts.size() == 2);
  REQUIRE(a.logging);
  CHECK(a.logging->driver == "journald");  // another driver: replaced, options and all
  CHECK(a.logging->options.empty());
  CHECK(a.ulimits.at("nofile").soft == 10);
  CHECK(a.ulimits.contains("nproc"));
  CHECK_FALSE(a.command.has_value());  // !reset: the image's
  const auto& b = Svc(s, "b");
  REQUIRE(b.logging);
  CHECK(b.logging->driver == "json-file");  // no driver in the override: options merge
  CHECK(b.logging->options.size() == 2);
  CHECK(b.networks.size() == 1);  // !override
  CHECK(b.networks.contains("front"));
}

TEST_CASE("include: a path list merges as override files; an include inside an included file") {
  Repo repo;
  repo.Write("services/p/parts/web.yml",
             "include: [more.yml]\nservices:\n  web: {image: busybox, init: false}\n");
  repo.Write("services/p/parts/web.prod.yml", "services:\n  web: {init: true}\n");
  repo.Write("services/p/parts/more.yml", "services:\n  more: {image: busybox}\n");
  auto s = repo.Ok(
      "p", "include:\n  - path: [parts/web.yml, parts/web.prod.yml]\nservices:\n  a: {image: busybox}\n");
  CHECK(Svc(s, "web").init == true);
  CHECK(s.Find("more") != nullptr);
  const auto& web = Svc(s, "web");
  CHECK(std::find(web.files.begin(), web.files.end(), "services/p/parts/web.prod.yml") != web.files.end());
  const auto& more = Svc(s, "more");
  CHECK(std::find(more.files.begin(), more.files.end(), "services/p/parts/more.yml") != more.files.end());
}

TEST_CASE("!reset and !override in the compose file alone: the key is left out, the value kept") {
  Repo repo;
  auto s = repo.Ok(
      "p", "services:\n  a:\n    image: busybox\n    ports: !reset [\"80\"]\n    dns: !override [1.1.1.1]\n");
  CHECK(Svc(s, "a").ports.empty());
  CHECK(Svc(s, "a").dns == std::vector<std::string>{"1.1.1.1"});
}

TEST_CASE("large merges stay linear: big mappings, many extends of a big base, many included services") {
  using Clock = std::chrono::steady_clock;
  // Many services extending a base of 40,000 variables: the merges' node budget stops it.
  {
    Repo repo;
    std::string text = "services:\n  base:\n    image: x\n    environment:\n";
    for (int i = 0; i < 40'000; ++i) text += "      E" + std::to_string(i) + ": v\n";
    for (int i = 0; i < 2'000; ++i)
      text += "  s" + std::to_string(i) + ": {extends: base, environment: {X: y}}\n";
    auto t0 = Clock::now();
    auto err = repo.Errors("p", text);
    CHECK(Clock::now() - t0 < std::chrono::seconds(30));
    CHECK(Contains(err, "make more than 1000000 YAML nodes, podcd's limit"));
  }
  // An override of 50,000 variables onto 50,000 others: merged key by key, not n^2.
  {
    Repo repo;
    std::string base = "services:\n  a:\n    image: x\n    environment:\n";
    std::string over = "services:\n  a:\n    environment:\n";
    for (int i = 0; i < 50'000; ++i) {
      base += "      E" + std::to_string(i) + ": v\n";
      over += "      E" + std::to_string(i + 25'000) + ": w\n";
    }
    repo.Write("services/p/compose.override.yaml", over);
    auto t0 = Clock::now();
    auto s = repo.Ok("p", base);
    CHECK(Clock::now() - t0 < std::chrono::seconds(30));
    CHECK(Svc(s, "a").environment.size() == 75'000);
    CHECK(Svc(s, "a").environment.at("E30000") == "w");
  }
  // An included file of 10,000 services.
  {
    Repo repo;
    std::string inc = "services:\n";
    for (int i = 0; i < 10'000; ++i) inc += "  s" + std::to_string(i) + ": {image: x}\n";
    repo.Write("services/p/many.yml", inc);
    auto t0 = Clock::now();
    auto s = repo.Ok("p", "include: [many.yml]\nservices:\n  a: {image: x}\n");
    CHECK(Clock::now() - t0 < std::chrono::seconds(30));
    CHECK(s.services.size() == 10'001);
  }
}
