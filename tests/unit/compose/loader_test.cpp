#include "compose/loader.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include "core/fingerprint.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
const core::Service& Svc(const core::Stack& s, const std::string& name) {
  const auto* p = s.Find(name);
  REQUIRE(p != nullptr);
  return *p;
}
bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("discovery: compose file order, duplicates, bad names") {
  Repo repo;
  repo.Write("services/web/compose.yaml", "services: {a: {image: x}}\n");
  repo.Write("services/db/podman-compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/two/compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/two/docker-compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/Bad_Name/compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/empty/README", "nothing\n");
  auto d = compose::DiscoverStacks(repo.Root(), "services");
  REQUIRE(d);
  REQUIRE(d->stacks.size() == 2);
  CHECK(d->stacks[0].name == "db");
  CHECK(d->stacks[0].compose_file.filename() == "podman-compose.yml");
  CHECK(d->stacks[1].name == "web");
  CHECK(d->stacks[1].compose_file.filename() == "compose.yaml");
  REQUIRE(d->errors.size() == 3);
  CHECK(d->errors[0].first == "Bad_Name");
  CHECK(d->errors[1].first == "empty");
  CHECK(d->errors[2].first == "two");
  CHECK(Contains(d->errors[2].second.message, "compose.yml, docker-compose.yml"));
  CHECK_FALSE(compose::DiscoverStacks(repo.Root(), "nope"));
}

TEST_CASE("a full service in short syntax") {
  Repo repo;
  repo.Write("services/web/.env", "TAG=1.25\nHOST_PORT=8080\nCOMPOSE_PROFILES=debug\n");
  repo.Write("services/web/app.env", "FROM_FILE=1\nOVERRIDDEN=file\n");
  repo.Write("services/web/nginx.conf", "server {}\n");
  auto s = repo.Ok("web", R"(
version: "3.8"
x-common: &common
  restart: unless-stopped
services:
  app:
    <<: *common
    image: nginx:${TAG}
    build: ./src
    command: nginx -g 'daemon off;'
    entrypoint: ["/docker-entrypoint.sh"]
    environment:
      - OVERRIDDEN=env
      - PLAIN=1
      - TZ
    env_file: app.env
    ports:
      - "${HOST_PORT}:80"
      - "127.0.0.1:8443:443/tcp"
      - "[::1]:53:53/udp"
      - "9000-9002:9000-9002"
      - 3000
      - "127.0.0.1::7000"
    expose: ["80", "9090/udp"]
    volumes:
      - data:/var/lib/data
      - ./nginx.conf:/etc/nginx/nginx.conf:ro,Z
      - /etc/localtime:/etc/localtime:ro
      - /cache
      - ./:/srv:z,U
    networks: [front, back]
    links: ["db:database"]
    labels: ["a=1", "b=two"]
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 500ms
      retries: 3
      start_period: 10s
      start_interval: 2s
    depends_on: [db]
    user: "1000:1000"
    working_dir: /srv
    hostname: web1
    cap_add: [NET_ADMIN, cap_chown]
    cap_drop: [ALL]
    privileged: false
    read_only: true
    tmpfs: /run
    init: true
    stop_grace_period: 30s
    stop_signal: SIGQUIT
    extra_hosts: ["host.example:10.0.0.1", "other=10.0.0.2"]
    logging: {driver: journald, options: {tag: web}}
    profiles: [debug]
    container_name: web-app
    shm_size: 64m
    mem_limit: 1g
    memswap_limit: -1
    cpus: 1.5
    cpu_shares: 512
    deploy: {resources: {limits: {cpus: "0.5", memory: 256M, pids: 100}, reservations: {memory: 128m}}}
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    sysctls: ["net.core.somaxconn=1024"]
    dns: 1.1.1.1
    dns_search: example.com
    stdin_open: true
    tty: true
    security_opt: ["no-new-privileges:true"]
    group_add: [wheel]
    pull_policy: always
    platform: linux/amd64
    devices: ["/dev/fuse:/dev/fuse:rwm"]
    pid: "service:db"
    ipc: private
    userns_mode: keep-id
  db:
    image: postgres:16
    networks: [back]
networks:
  front:
  back: {internal: true, driver: bridge, driver_opts: {mtu: "1400"}}
volumes:
  data:
)");
  CHECK(s.name == "web");
  CHECK(s.compose_file == "services/web/compose.yml");
  REQUIRE(s.services.size() == 2);
  CHECK(s.services[0].name == "app");
  const auto& a = Svc(s, "app");
  CHECK(a.image == "nginx:1.25");
  REQUIRE(a.build);
  CHECK(a.build->context == "./src");
  CHECK(a.command == std::vector<std::string>{"nginx", "-g", "daemon off;"});
  CHECK(a.entrypoint == std::vector<std::string>{"/docker-entrypoint.sh"});
  CHECK(a.environment ==
        std::map<std::string, std::string>{
            {"FROM_FILE", "1"}, {"OVERRIDDEN", "env"}, {"PLAIN", "1"}, {"TZ", "Europe/Paris"}});
  REQUIRE(a.ports.size() == 6);
  CHECK(a.ports[0].published == core::PortRange{8080, 8080});
  CHECK(a.ports[0].target == core::PortRange{80, 80});
  CHECK(a.ports[1].host_ip == "127.0.0.1");
  CHECK(a.ports[2].host_ip == "::1");
  CHECK(a.ports[2].protocol == "udp");
  CHECK(a.ports[3].published == core::PortRange{9000, 9002});
  CHECK(a.ports[4].published.start == 0);
  CHECK(a.ports[4].target.start == 3000);
  CHECK(a.ports[5].published.start == 0);
  CHECK(a.ports[5].host_ip == "127.0.0.1");
  CHECK(a.expose == std::vector<std::string>{"80", "9090/udp"});
  REQUIRE(a.volumes.size() == 5);
  CHECK(a.volumes[0].type == core::MountType::kVolume);
  CHECK(a.volumes[0].source == "data");
  CHECK(a.volumes[1].type == core::MountType::kBind);
  CHECK(a.volumes[1].repo_path == "services/web/nginx.conf");
  CHECK(a.volumes[1].read_only);
  CHECK(a.volumes[1].selinux == "Z");
  CHECK(a.volumes[2].repo_path.empty());
  CHECK(a.volumes[2].source == "/etc/localtime");
  CHECK(a.volumes[3].source.empty());
  CHECK(a.volumes[3].target == "/cache");
  CHECK(a.volumes[4].repo_path == "services/web");
  CHECK(a.volumes[4].chown);
  CHECK(a.volumes[4].selinux == "z");
  CHECK(a.networks.size() == 2);
  CHECK(a.networks.contains("front"));
  CHECK(Svc(s, "db").networks.at("back").aliases == std::vector<std::string>{"database"});
  CHECK(a.labels == std::map<std::string, std::string>{{"a", "1"}, {"b", "two"}});
  CHECK(a.restart == "unless-stopped");
  REQUIRE(a.healthcheck);
  CHECK(a.healthcheck->test == std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"});
  CHECK(a.healthcheck->interval == 90s);
  CHECK(a.healthcheck->timeout == 500ms);
  CHECK(a.healthcheck->retries == 3);
  CHECK(a.healthcheck->start_period == 10s);
  CHECK(a.healthcheck->start_interval == 2s);
  CHECK(a.depends_on.at("db").condition == "service_started");
  CHECK(a.user == "1000:1000");
  CHECK(a.working_dir == "/srv");
  CHECK(a.hostname == "web1");
  CHECK(a.cap_add == std::vector<std::string>{"CHOWN", "NET_ADMIN"});
  CHECK(a.cap_drop == std::vector<std::string>{"ALL"});
  CHECK_FALSE(a.privileged);
  CHECK(a.read_only);
  CHECK(a.tmpfs == std::vector<std::string>{"/run"});
  CHECK(a.init == true);
  CHECK(a.stop_grace_period == 30s);
  CHECK(a.stop_signal == "SIGQUIT");
  CHECK(a.extra_hosts == std::vector<std::string>{"host.example:10.0.0.1", "other:10.0.0.2"});
  REQUIRE(a.logging);
  CHECK(a.logging->driver == "journald");
  CHECK(a.logging->options.at("tag") == "web");
  CHECK(a.profiles == std::vector<std::string>{"debug"});
  CHECK(a.container_name == "web-app");
  CHECK(a.shm_size == 64 << 20);
  CHECK(a.mem_limit == 1 << 30);
  CHECK(a.memswap_limit == -1);
  CHECK(a.nano_cpus == 1'500'000'000);
  CHECK(a.cpu_shares == 512);
  CHECK(a.deploy.limits.nano_cpus == 500'000'000);
  CHECK(a.deploy.limits.memory == 256 << 20);
  CHECK(a.deploy.limits.pids == 100);
  CHECK(a.deploy.reservations.memory == 128 << 20);
  CHECK(a.ulimits.at("nofile").soft == 1024);
  CHECK(a.ulimits.at("nofile").hard == 2048);
  CHECK(a.ulimits.at("nproc").hard == 512);
  CHECK(a.sysctls.at("net.core.somaxconn") == "1024");
  CHECK(a.dns == std::vector<std::string>{"1.1.1.1"});
  CHECK(a.dns_search == std::vector<std::string>{"example.com"});
  CHECK(a.stdin_open);
  CHECK(a.tty);
  CHECK(a.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(a.group_add == std::vector<std::string>{"wheel"});
  CHECK(a.pull_policy == "always");
  CHECK(a.platform == "linux/amd64");
  REQUIRE(a.devices.size() == 1);
  CHECK(a.devices[0].container_path == "/dev/fuse");
  CHECK(a.devices[0].permissions == "rwm");
  CHECK(a.pid == "service:db");
  CHECK(a.ipc == "private");
  CHECK(a.userns_mode == "keep-id");
  CHECK(s.networks.at("front").name == "web_front");
  CHECK(s.networks.at("back").internal);
  CHECK(s.networks.at("back").driver_opts.at("mtu") == "1400");
  CHECK(s.volumes.at("data").name == "web_data");
  // Files: app.env, nginx.conf, the stack directory; .env only at stack level.
  CHECK(a.files ==
        std::vector<std::string>{"services/web", "services/web/app.env", "services/web/nginx.conf"});
  CHECK(s.files.at("services/web/.env").kind == core::FileKind::kEnvFile);
  CHECK(s.files.at("services/web/app.env").kind == core::FileKind::kEnvFile);
  CHECK(s.files.at("services/web/nginx.conf").kind == core::FileKind::kBindFile);
  CHECK(s.files.at("services/web").kind == core::FileKind::kBindDir);
  CHECK(Svc(s, "db").files.empty());
}

TEST_CASE("a full service in long syntax") {
  Repo repo;
  repo.Write("services/web/a.env", "A=1\n");
  repo.Write("services/web/site.conf", "x\n");
  repo.Write("services/web/token.txt", "secret\n");
  auto s = repo.Ok("web", R"(
services:
  app:
    image: nginx
    build: {context: ., dockerfile: Containerfile, args: {V: "1"}, target: prod}
    command: ["a", "b c"]
    entrypoint: "sh -c 'echo \"hi\"'"
    environment: {A: override, B: "", C: 3, TZ: null}
    env_file:
      - path: a.env
      - path: missing.env
        required: false
    ports:
      - target: 80
        published: "8080"
        host_ip: 127.0.0.1
        protocol: tcp
        mode: host
        name: http
        app_protocol: http
      - target: 53
        protocol: udp
    volumes:
      - type: volume
        source: data
        target: /data
        volume: {nocopy: true, subpath: sub}
      - type: bind
        source: ./site.conf
        target: /etc/site.conf
        read_only: true
        bind: {selinux: z, propagation: rprivate, create_host_path: false}
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m, mode: 1777}
    networks:
      front:
        aliases: [www, web]
        ipv4_address: 10.1.0.5
        priority: 10
    labels: {com.example: "yes"}
    restart: "on-failure:3"
    healthcheck:
      test: ["CMD", "true"]
      interval: 10s
    depends_on:
      db: {condition: service_healthy, restart: true}
      init: {condition: service_completed_successfully, required: false}
    extra_hosts: {host.one: 10.0.0.1}
    ulimits: {nofile: 1024}
    sysctls: {net.ipv4.ip_forward: "1"}
    dns: [8.8.8.8, 1.1.1.1]
    dns_search: [a.example, b.example]
    tmpfs: ["/run:size=1m", /var/run]
    devices: [{source: /dev/dri, target: /dev/dri, permissions: rw}]
    configs: [site, {source: site, target: /etc/x.conf, uid: "101", gid: "101", mode: 0440}]
    secrets: [{source: token, target: /run/secrets/t}]
  db:
    image: postgres
    network_mode: none
    healthcheck: {disable: true}
  init:
    image: busybox
    network_mode: "service:db"
networks:
  front: {name: my-front, external: true}
  internal: {}
volumes:
  data: {external: true, name: shared-data}
configs:
  site: {file: ./site.conf}
secrets:
  token: {file: token.txt}
name: webproj
)");
  CHECK(s.name == "webproj");
  CHECK(s.networks.at("internal").name == "webproj_internal");  // `name` comes last in the file
  CHECK(s.dir == "web");
  const auto& a = Svc(s, "app");
  CHECK(a.build->dockerfile == "Containerfile");
  CHECK(a.build->args.at("V") == "1");
  CHECK(a.build->target == "prod");
  CHECK(a.command == std::vector<std::string>{"a", "b c"});
  CHECK(a.entrypoint == std::vector<std::string>{"sh", "-c", "echo \"hi\""});
  CHECK(a.environment ==
        std::map<std::string, std::string>{{"A", "override"}, {"B", ""}, {"C", "3"}, {"TZ", "Europe/Paris"}});
  REQUIRE(a.ports.size() == 2);
  CHECK(a.ports[0].published.start == 8080);
  CHECK(a.ports[0].host_ip == "127.0.0.1");
  CHECK(a.ports[0].mode == "host");
  CHECK(a.ports[0].name == "http");
  CHECK(a.ports[0].app_protocol == "http");
  CHECK(a.ports[1].protocol == "udp");
  CHECK(a.ports[1].published.start == 0);
  REQUIRE(a.volumes.size() == 3);
  CHECK(a.volumes[0].nocopy);
  CHECK(a.volumes[0].subpath == "sub");
  CHECK(a.volumes[1].selinux == "z");
  CHECK(a.volumes[1].propagation == "rprivate");
  CHECK_FALSE(a.volumes[1].create_host_path);
  CHECK(a.volumes[1].read_only);
  CHECK(a.volumes[2].type == core::MountType::kTmpfs);
  CHECK(a.volumes[2].tmpfs_size == 64 << 20);
  CHECK(a.volumes[2].tmpfs_mode == 01777u);
  CHECK(a.networks.at("front").aliases == std::vector<std::string>{"web", "www"});
  CHECK(a.networks.at("front").ipv4_address == "10.1.0.5");
  CHECK(a.networks.at("front").priority == 10);
  CHECK(a.restart == "on-failure:3");
  CHECK(a.healthcheck->test == std::vector<std::string>{"CMD", "true"});
  CHECK(a.depends_on.at("db").condition == "service_healthy");
  CHECK(a.depends_on.at("db").restart);
  CHECK_FALSE(a.depends_on.at("init").required);
  CHECK(a.extra_hosts == std::vector<std::string>{"host.one:10.0.0.1"});
  CHECK(a.ulimits.at("nofile").soft == 1024);
  CHECK(a.sysctls.at("net.ipv4.ip_forward") == "1");
  CHECK(a.dns.size() == 2);
  CHECK(a.tmpfs.size() == 2);
  CHECK(a.devices.at(0).host_path == "/dev/dri");
  REQUIRE(a.configs.size() == 2);
  CHECK(a.configs[1].mode == 0440u);
  CHECK(a.configs[1].uid == "101");
  CHECK(a.secrets.at(0).target == "/run/secrets/t");
  CHECK(s.networks.at("front").name == "my-front");
  CHECK(s.networks.at("front").external);
  CHECK(s.volumes.at("data").name == "shared-data");
  CHECK(s.configs.at("site").file == "services/web/site.conf");
  CHECK(s.files.at("services/web/site.conf").kind == core::FileKind::kConfig);
  CHECK(s.files.at("services/web/token.txt").kind == core::FileKind::kSecret);
  CHECK(a.files ==
        std::vector<std::string>{"services/web/a.env", "services/web/site.conf", "services/web/token.txt"});
  const auto& db = Svc(s, "db");
  CHECK(db.networks.empty());
  CHECK(db.network_mode == "none");
  REQUIRE(db.healthcheck);
  CHECK(db.healthcheck->disable);
  CHECK(db.healthcheck->test == std::vector<std::string>{"NONE"});
  CHECK(Svc(s, "init").network_mode == "service:db");
  CHECK(s.networks.contains("front"));
}

TEST_CASE("merge keys: single, list, precedence, nested anchors") {
  Repo repo;
  auto s = repo.Ok("m", R"(
x-base: &base
  image: base:1
  restart: always
  labels: {from: base}
x-logging: &logging
  logging: {driver: journald}
x-env: &env
  A: "1"
  B: "2"
services:
  one:
    <<: *base
    image: own:2
  two:
    <<: [*logging, *base]
    environment:
      <<: *env
      B: three
  three:
    <<: [*base, {image: later-loses}]
)");
  CHECK(Svc(s, "one").image == "own:2");
  CHECK(Svc(s, "one").restart == "always");
  CHECK(Svc(s, "two").logging->driver == "journald");
  CHECK(Svc(s, "two").image == "base:1");
  CHECK(Svc(s, "two").environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "three"}});
  CHECK(Svc(s, "three").image == "base:1");
}

TEST_CASE("merge key errors, recursion and alias bombs") {
  Repo repo;
  CHECK(Contains(repo.Errors("m", "services:\n  a:\n    <<: 5\n    image: x\n"), "merge key"));
  // A billion laughs: shared nodes, not copies, so this loads fast or fails cleanly.
  std::string bomb = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string("x-") + c + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) bomb += std::string(i ? ", " : "") + "*" + prev;
    bomb += "]\n";
    prev = c;
  }
  bomb += "services:\n  a:\n    image: x\n    command: *j\n";
  // x-g stands for 9^7 nodes: refused there, whatever reads it later.
  auto err = repo.Errors("bomb", bomb);
  CHECK(Contains(err, "services/bomb/compose.yml:7:"));
  CHECK(Contains(err, "the document expands to more than 1000000 YAML nodes, podcd's limit"));
  auto merge_bomb = std::string("x-a: &a {k: v}\n");
  prev = 'a';
  for (char c = 'b'; c <= 'z'; ++c) {
    merge_bomb += std::string("x-") + c + ": &" + c + " {<<: [*" + prev + ", *" + prev + "]}\n";
    prev = c;
  }
  merge_bomb += "services:\n  a:\n    image: x\n    labels: *z\n";
  auto ok = repo.Ok("mergebomb", merge_bomb);
  CHECK(Svc(ok, "a").labels.at("k") == "v");
}

TEST_CASE("a stack whose merge keys or variables fan out is invalid with its reason; the others load") {
  Repo repo;
  repo.Write("services/good/compose.yml", "services: {a: {image: x}}\n");
  // Under 1 MiB: a mapping of 40,000 keys merged into 40,000 items (1.6 * 10^9 entries).
  std::string fan = "x-a: &a {";
  for (int i = 0; i < 40'000; ++i) fan += (i ? ", k" : "k") + std::to_string(i) + ": 1";
  fan += "}\nx-b:\n";
  for (int i = 0; i < 40'000; ++i) fan += "  - <<: *a\n";
  fan += "services: {a: {image: x}}\n";
  repo.Write("services/merges/compose.yml", fan);
  // Variables that expand each other a thousandfold: 10 bytes, 10 KB, 10 MB, 10 GB.
  std::string env = "A=xxxxxxxxxx\n";
  for (char v : {'B', 'C', 'D'}) {
    env += std::string(1, v) + "=";
    for (int i = 0; i < 1000; ++i) env += std::string("$") + static_cast<char>(v - 1);
    env += "\n";
  }
  repo.Write("services/dotenv/.env", env);
  repo.Write("services/dotenv/compose.yml", "services: {a: {image: x, environment: {X: $D}}}\n");
  // The same in the compose file: each value is bounded, and so is their sum.
  repo.Write("services/values/.env", "B=" + std::string(900'000, 'b') + "\n");
  std::string values = "services:\n  a:\n    image: x\n    command:\n";
  for (int i = 0; i < 40; ++i) values += "      - ${B}\n";
  repo.Write("services/values/compose.yml", values);
  repo.Write("services/long/compose.yml", "services: {a: {image: x, command: [\"${B}${B}\"]}}\n");
  repo.Write("services/long/.env", "B=" + std::string(900'000, 'b') + "\n");

  const auto start = std::chrono::steady_clock::now();
  auto r = compose::LoadRepository("services", repo.options);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  REQUIRE(r);
  REQUIRE(r->stacks.size() == 1);
  CHECK(r->stacks[0].name == "good");
  REQUIRE(r->invalid.size() == 4);
  CHECK(
      Join(r->invalid.at("merges")) ==
      "services/merges/compose.yml:26:5: the document expands to more than 1000000 YAML nodes, podcd's limit "
      "(each use of an alias or merge key (<<) counts all it stands for)\n");
  CHECK(
      Join(r->invalid.at("dotenv")) ==
      "services/dotenv/.env:3: the value expands to more than 1048576 bytes once variables are substituted, "
      "podcd's limit\n");
  CHECK(Join(r->invalid.at("long")) ==
        "services/long/compose.yml:1:36: services.a.command[0]: the value expands to more than 1048576 bytes "
        "once variables are substituted, podcd's limit (offset 5 of the value)\n");
  CHECK(Join(r->invalid.at("values")) ==
        "services/values/compose.yml:22:9: services.a.command[17]: the stack's values expand to more than 16 "
        "MiB "
        "once variables and aliases are substituted, podcd's limit\n");
}

TEST_CASE("a build context or bound directory with too many files is invalid with its reason") {
  Repo repo;
  repo.options.max_dir_entries = 50;  // kMaxDirEntries (100,000) in production: see the CLI test
  repo.Write("services/good/compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/ctx/compose.yml", "services:\n  a:\n    build: ./app\n");
  repo.Write("services/ctx/app/Containerfile", "FROM scratch\n");
  repo.Write("services/skip/compose.yml", "services:\n  a:\n    build: ./app\n");
  repo.Write("services/skip/app/Containerfile", "FROM scratch\n");
  repo.Write("services/skip/app/.containerignore", "node_modules\n");
  repo.Write("services/bind/compose.yml", "services:\n  a:\n    image: x\n    volumes: [./data:/data]\n");
  for (int i = 0; i < 50; ++i) {
    repo.Write("services/ctx/app/f" + std::to_string(i), "x");
    repo.Write("services/skip/app/node_modules/f" + std::to_string(i), "x");
    repo.Write("services/bind/data/f" + std::to_string(i), "x");
  }
  repo.Write("services/bind/data/f50", "x");
  auto r = compose::LoadRepository("services", repo.options);
  REQUIRE(r);
  std::string loaded;
  for (const auto& st : r->stacks) loaded += st.name + " ";
  INFO(loaded);
  REQUIRE(r->stacks.size() == 2);
  CHECK(r->stacks[0].name == "good");
  CHECK(r->stacks[1].name == "skip");  // what the ignore file leaves out whole is not walked
  REQUIRE(r->invalid.size() == 2);
  CHECK(Join(r->invalid.at("ctx")) ==
        "services/ctx/compose.yml:3:12: services.a.build: services/ctx/app: holds more than 50 files and "
        "directories, podcd's limit (a directory the ignore file leaves out whole is not counted)\n");
  CHECK(
      Contains(Join(r->invalid.at("bind")), "services/bind/data: holds more than 50 files and directories"));
}

TEST_CASE("duplicates, unsupported keys and type errors carry positions and paths") {
  Repo repo;
  auto dup = repo.Errors("d", "services:\n  a:\n    image: x\n    image: y\n");
  CHECK(Contains(dup, "services/d/compose.yml:4:5"));
  CHECK(Contains(dup, "duplicate key \"image\""));
  auto unknown = repo.Errors("u", "services:\n  a:\n    image: x\n    scale: 3\n");
  CHECK(Contains(unknown, "services/u/compose.yml:4:5: services.a.scale: unsupported key \"scale\""));
  auto top = repo.Errors("t", "includes: [x.yml]\nservices:\n  a: {image: x}\n");
  CHECK(Contains(top, ":1:1: includes: unsupported key"));
  auto nested = repo.Errors("n", "services:\n  a:\n    image: x\n    deploy: {replicas: 2}\n");
  CHECK(Contains(nested, "services.a.deploy.replicas: unsupported key"));
  auto type = repo.Errors("ty", "services:\n  a:\n    image: [x]\n    privileged: maybe\n    ports: 80\n");
  CHECK(Contains(type, ":3:12: services.a.image: must be a string, got a sequence"));
  CHECK(Contains(type, "services.a.privileged: must be true or false, got \"maybe\""));
  CHECK(Contains(type, "services.a.ports: must be a list"));
  auto bad_values = repo.Errors("bv", R"(
services:
  a:
    image: x
    ports: ["70000:80", "a:b", "1:2:3:4"]
    volumes: ["x:/y:bogus", "vol:relative"]
    restart: sometimes
    mem_limit: lots
    cpus: many
    stop_grace_period: soon
    depends_on: {ghost: {condition: service_healthy}}
    networks: [nowhere]
    healthcheck: {test: [RUN, x]}
    pull_policy: sometimes
    network_mode: weird
)");
  for (const char* needle :
       {"ports[0]: is not a valid port mapping", "ports[1]", "ports[2]",
        "unsupported volume option \"bogus\"", "volumes[1]: the container path must be absolute",
        "restart: must be", "mem_limit: must be a size", "cpus: must be a number",
        "stop_grace_period: must be a duration", "unknown service \"ghost\"", "network \"nowhere\"",
        "NONE, CMD or CMD-SHELL", "pull_policy: must be", "unsupported network mode"}) {
    CHECK(Contains(bad_values, needle));
  }
  auto undefined_volume = repo.Errors("uv", "services:\n  a:\n    image: x\n    volumes: [data:/d]\n");
  CHECK(Contains(undefined_volume, "named volume \"data\" is not defined"));
  CHECK(Contains(repo.Errors("e", ""), "empty"));
  CHECK(Contains(repo.Errors("ni", "services:\n  a: {command: x}\n"), "needs `image` or `build`"));
  CHECK(Contains(repo.Errors("syn", "services: [\n"), "services/syn/compose.yml:"));
}

TEST_CASE("extensions and version are ignored; name is validated") {
  Repo repo;
  auto s =
      repo.Ok("x", "version: '2'\nx-top: {anything: [1]}\nservices:\n  a:\n    image: x\n    x-note: hi\n");
  CHECK(s.services.size() == 1);
  CHECK(Contains(repo.Errors("y", "name: Bad Name\nservices: {a: {image: x}}\n"), "name: must match"));
}

TEST_CASE("interpolation: .env over podman-compose.env over the host allow-list") {
  Repo repo;
  repo.Write("services/v/podman-compose.env", "A=pc\nB=pc\nC=pc\n");
  repo.Write("services/v/.env", "A=dotenv\nD=${B}-${TZ}\n");
  auto s = repo.Ok("v", R"y(
services:
  a:
    image: "img:${A}"
    environment: {B: $B, D: $D, TZ: $TZ, E: "$${NOT}", F: "${UNSET:-dflt}", G: "$(date)"}
)y");
  const auto& a = Svc(s, "a");
  CHECK(a.image == "img:dotenv");
  CHECK(a.environment.at("B") == "pc");
  CHECK(a.environment.at("D") == "pc-Europe/Paris");
  CHECK(a.environment.at("TZ") == "Europe/Paris");
  CHECK(a.environment.at("E") == "${NOT}");
  CHECK(a.environment.at("F") == "dflt");
  CHECK(a.environment.at("G") == "$(date)");
  CHECK(std::any_of(s.warnings.begin(), s.warnings.end(),
                    [](const std::string& w) { return Contains(w, "A is set in both"); }));
  CHECK(a.files.empty());
  CHECK(s.files.contains("services/v/.env"));
  CHECK(s.files.contains("services/v/podman-compose.env"));
  auto err = repo.Errors("w", "services:\n  a:\n    image: \"${IMAGE:?set IMAGE}\"\n");
  CHECK(Contains(err, "services/w/compose.yml:3:12: services.a.image: required variable IMAGE"));
  CHECK(Contains(err, "set IMAGE"));
  auto warn = repo.Ok("un", "services:\n  a:\n    image: \"x${NOPE}\"\n");
  CHECK(warn.warnings.size() == 1);
  CHECK(Contains(warn.warnings[0], "NOPE"));
  repo.Write("services/bad/.env", "GOOD=1\nnot a line\n");
  CHECK(Contains(repo.Errors("bad", "services: {a: {image: x}}\n"), "services/bad/.env:2"));
}

TEST_CASE("env_file: precedence, required, secrets dir") {
  Repo repo;
  repo.Write("services/e/one.env", "A=one\nB=one\n");
  repo.Write("services/e/two.env", "B=two\n");
  repo.Write("secrets/e.env", "PASSWORD=hunter2\n");
  auto s = repo.Ok("e", R"(
services:
  a:
    image: x
    env_file: [one.env, two.env, ../../secrets/e.env]
    environment: [C=env]
)");
  const auto& a = Svc(s, "a");
  CHECK(a.environment == std::map<std::string, std::string>{
                             {"A", "one"}, {"B", "two"}, {"C", "env"}, {"PASSWORD", "hunter2"}});
  CHECK(a.files == std::vector<std::string>{"secrets/e.env", "services/e/one.env", "services/e/two.env"});
  CHECK(Contains(repo.Errors("e", "services: {a: {image: x, env_file: nope.env}}\n"),
                 "nope.env does not exist"));
  CHECK(Contains(repo.Errors("e", "services: {a: {image: x, env_file: [{path: x, required: maybe}]}}\n"),
                 "required: must be true or false"));
}

TEST_CASE("the secrets directory may live outside the repository") {
  Repo repo;
  repo.tmp.Write("outside-secrets/s.env", "TOKEN=t\n");
  repo.options.secrets_dir = repo.tmp.path() / "outside-secrets";
  auto path = (repo.tmp.path() / "outside-secrets/s.env").string();
  auto s = repo.Ok("s", "services:\n  a:\n    image: x\n    env_file: " + path + "\n");
  CHECK(Svc(s, "a").environment.at("TOKEN") == "t");
  CHECK(Svc(s, "a").files == std::vector<std::string>{"<secrets>/s.env"});
}

TEST_CASE("size limits: compose and env files over 1 MiB are refused") {
  Repo repo;
  std::string big = "services: {a: {image: x}}\n#" + std::string(compose::kMaxComposeBytes, 'x') + "\n";
  auto r = repo.Load("big", big);
  REQUIRE_FALSE(r);
  CHECK(Contains(Join(r.error()), "over the limit"));
  repo.Write("services/env/big.env", "A=" + std::string(compose::kMaxComposeBytes, 'x') + "\n");
  CHECK(Contains(repo.Errors("env", "services: {a: {image: x, env_file: big.env}}\n"), "over the limit"));
  repo.Write("services/dot/.env", "A=" + std::string(compose::kMaxComposeBytes, 'x') + "\n");
  CHECK(Contains(repo.Errors("dot", "services: {a: {image: x}}\n"), "over the limit"));
}

TEST_CASE("commands split like a shell without running one") {
  CHECK(compose::SplitCommand("a 'b c' \"d \\\"e\\\"\" f\\ g") ==
        std::vector<std::string>{"a", "b c", "d \"e\"", "f g"});
  CHECK(compose::SplitCommand("echo $(id); `x`") == std::vector<std::string>{"echo", "$(id);", "`x`"});
  CHECK(compose::SplitCommand("")->empty());
  CHECK_FALSE(compose::SplitCommand("'open"));
  CHECK_FALSE(compose::SplitCommand("\"open"));
}

TEST_CASE("LoadRepository loads the good stacks and lists the bad ones") {
  Repo repo;
  repo.Write("services/good/compose.yml", "services: {a: {image: x}}\n");
  repo.Write("services/bad/compose.yml", "services: {a: {image: x, bogus: 1}}\n");
  repo.Write("services/Upper/compose.yml", "services: {a: {image: x}}\n");
  auto r = compose::LoadRepository("services", repo.options);
  REQUIRE(r);
  REQUIRE(r->stacks.size() == 1);
  CHECK(r->stacks[0].name == "good");
  REQUIRE(r->invalid.size() == 2);
  CHECK(Contains(Join(r->invalid.at("bad")), "bogus"));
  CHECK(r->invalid.contains("Upper"));
}

TEST_CASE("remaining forms: network modes, cleared entrypoint, NONE healthcheck, legacy external") {
  Repo repo;
  repo.Write("services/r/one.env", "X=1\n");
  auto s = repo.Ok("r", R"(
services:
  a:
    image: x
    network_mode: host
    entrypoint: []
    command: ""
    env_file: one.env
    healthcheck: {test: [NONE]}
    domainname: example.org
    mem_reservation: 1k
    pids_limit: 50
    dns_opt: [ndots:1]
    deploy: {resources: {reservations: {cpus: "0.25", memory: 1m}}}
    ulimits: {core: 0}
  b:
    image: x
    network_mode: "container:other"
  c:
    image: x
    network_mode: bridge
    expose: ["8000-8010/tcp"]
    tmpfs: "/run:size=1m"
networks:
  ext: {external: {name: real-net}}
)");
  const auto& a = *s.Find("a");
  CHECK(a.network_mode == "host");
  CHECK(a.networks.empty());
  CHECK(a.entrypoint == std::vector<std::string>{});
  CHECK(a.command == std::vector<std::string>{});
  CHECK(a.environment.at("X") == "1");
  CHECK(a.healthcheck->disable);
  CHECK(a.domainname == "example.org");
  CHECK(a.mem_reservation == 1024);
  CHECK(a.pids_limit == 50);
  CHECK(a.dns_opt == std::vector<std::string>{"ndots:1"});
  CHECK(a.deploy.reservations.nano_cpus == 250'000'000);
  CHECK(a.deploy.reservations.memory == 1 << 20);
  CHECK(a.ulimits.at("core").soft == 0);
  CHECK(s.Find("c")->expose == std::vector<std::string>{"8000-8010/tcp"});
  CHECK(s.Find("c")->tmpfs == std::vector<std::string>{"/run:size=1m"});
  CHECK(s.networks.at("ext").external);
  CHECK(s.networks.at("ext").name == "real-net");
  CHECK(Contains(repo.Errors("r2", "services:\n  a: {image: x, network_mode: bridge, networks: [default]}\n"),
                 "cannot be combined"));
  CHECK(Contains(repo.Errors("r3", "services:\n  a: {image: x, network_mode: \"service:ghost\"}\n"),
                 "unknown service \"ghost\""));
  CHECK(Contains(repo.Errors("r4", "services:\n  a: {image: x, links: [ghost]}\n"),
                 "unknown service \"ghost\""));
  CHECK(Contains(repo.Errors("r5", "services:\n  a: {image: x, configs: [nope]}\n"), "does not define"));
  CHECK(Contains(
      repo.Errors("r6",
                  "services:\n  a: {image: x, container_name: c}\n  b: {image: y, container_name: c}\n"),
      "used by two services"));
  CHECK(Contains(repo.Errors("r7", "services: {a: {image: x}}\nsecrets: {s: {file: nope.txt}}\n"),
                 "does not exist"));
  CHECK(Contains(repo.Errors("r8", "services: {a: {image: x}}\nsecrets: {s: {environment: X}}\n"),
                 "unsupported key"));
}

// The loader's split once left `soft` uninitialised (clang-tidy's analyzer found it): a long
// ulimit with only one of its two limits was accepted or refused at random.
TEST_CASE("a long ulimit needs both soft and hard") {
  Repo repo;
  for (const char* one : {"{hard: 10}", "{soft: 10}"}) {
    INFO(one);
    auto err =
        repo.Errors("u", std::string("services:\n  a:\n    image: x\n    ulimits: {nofile: ") + one + "}\n");
    CHECK(Contains(err, "services.a.ulimits.nofile: needs both `soft` and `hard`"));
  }
  auto ok = repo.Ok("u", "services:\n  a:\n    image: x\n    ulimits: {nofile: {soft: 10, hard: 20}}\n");
  CHECK(ok.services[0].ulimits.at("nofile").hard == 20);
}

TEST_CASE("a repository reached through a symlink loads like any other") {
  // The root is canonicalised; the stack's paths used to stay lexical, so a root through a
  // symlink (a TMPDIR on a symlink, a mount) made the stack's own .env "outside the repository".
  Repo repo;
  repo.Write("services/web/.env", "TAG=1\n");
  repo.Write("services/web/app.env", "A=1\n");
  repo.Write("services/web/conf/x.conf", "x\n");
  const auto link = repo.tmp.path() / "link";
  std::filesystem::create_directory_symlink(repo.Root(), link);
  auto options = repo.options;
  options.repo_root = link;
  const auto dir = link / "services/web";
  repo.Write("services/web/compose.yml",
             "services:\n  web:\n    image: x:${TAG}\n    env_file: app.env\n    volumes: [./conf:/conf]\n");
  auto through_link = compose::LoadStack(compose::StackDir{"web", dir, dir / "compose.yml"}, options);
  if (!through_link) FAIL(Join(through_link.error()));
  const auto direct = repo.Ok("web",
                              "services:\n  web:\n    image: x:${TAG}\n    env_file: app.env\n"
                              "    volumes: [./conf:/conf]\n");
  CHECK(through_link->compose_file == direct.compose_file);
  CHECK(core::Fingerprint(*through_link, through_link->services.front()) ==
        core::Fingerprint(direct, direct.services.front()));
}
