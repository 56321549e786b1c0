// Compose text -> loader -> MapService: every mapped field lands in the Podman spec.
#include "reconcile/spec_map.hpp"

#include <catch2/catch.hpp>

#include "unit/compose/helpers.hpp"

using namespace podcd;

namespace {

core::Stack Load(test::Repo& repo, const std::string& stack, const std::string& yaml) {
  auto r = repo.Load(stack, yaml);
  INFO((r ? std::string() : test::Join(r.error())));
  REQUIRE(r);
  return *r;
}

reconcile::ServiceJob Map(const core::Stack& st, const std::string& service) {
  auto r = reconcile::MapService(st, *st.Find(service), {"fp", "fields", "c0ffee", "d-1"});
  INFO((r ? std::string() : r.error().What()));
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("every compose field maps onto the container spec with podcd's labels") {
  test::Repo repo;
  repo.Write("services/web/site.conf", "x\n");
  auto st = Load(
      repo, "web",
      "services:\n"
      "  site:\n"
      "    image: localhost/bb:1\n"
      "    command: [httpd, -f]\n"
      "    entrypoint: /bin/sh\n"
      "    environment: {A: \"1\"}\n"
      "    ports: [\"127.0.0.1:8080-8081:80-81/udp\"]\n"
      "    volumes: [\"./site.conf:/etc/site.conf:ro\", \"data:/data\", {type: tmpfs, target: /run, tmpfs: "
      "{size: 1048576}}]\n"
      "    networks: {front: {aliases: [www]}}\n"
      "    container_name: web-site\n"
      "    labels: {team: ops}\n"
      "    restart: on-failure:3\n"
      "    healthcheck: {test: [CMD, \"true\"], interval: 2s, timeout: 1s, retries: 2, start_period: 3s}\n"
      "    user: \"1000:1000\"\n"
      "    working_dir: /srv\n"
      "    hostname: site\n"
      "    cap_add: [NET_ADMIN]\n"
      "    cap_drop: [ALL]\n"
      "    read_only: true\n"
      "    init: true\n"
      "    stop_signal: SIGINT\n"
      "    stop_grace_period: 1500ms\n"
      "    extra_hosts: [\"db:10.0.0.2\"]\n"
      "    logging: {driver: json-file, options: {max-size: 10m}}\n"
      "    dns: [1.1.1.1]\n"
      "    sysctls: {net.core.somaxconn: \"1024\"}\n"
      "    ulimits: {nofile: {soft: 1024, hard: 2048}}\n"
      "    mem_limit: 64m\n"
      "    cpus: 0.5\n"
      "    shm_size: 32m\n"
      "    security_opt: [no-new-privileges:true]\n"
      "    tty: true\n"
      "    pull_policy: always\n"
      "networks:\n  front: {}\n"
      "volumes:\n  data: {}\n");
  auto job = Map(st, "site");
  const auto& s = job.spec;
  CHECK(s.name == "web-site");
  CHECK(s.image == "localhost/bb:1");
  CHECK(s.command == std::vector<std::string>{"httpd", "-f"});
  CHECK(s.entrypoint == std::vector<std::string>{"/bin/sh"});
  CHECK(s.env.at("A") == "1");
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0].host_ip == "127.0.0.1");
  CHECK(s.ports[0].host_port == 8080);
  CHECK(s.ports[0].container_port == 80);
  CHECK(s.ports[0].range == 2);
  CHECK(s.ports[0].protocol == "udp");
  CHECK(job.publishes_host_ports);
  REQUIRE(s.binds.size() == 1);
  CHECK(s.binds[0].source == (repo.Root() / "services/web/site.conf").string());
  CHECK(s.binds[0].destination == "/etc/site.conf");
  CHECK(std::find(s.binds[0].options.begin(), s.binds[0].options.end(), "ro") != s.binds[0].options.end());
  REQUIRE(s.volumes.size() == 1);
  CHECK(s.volumes[0].name == "web_data");
  CHECK(s.volumes[0].destination == "/data");
  // The service's own /run, then read_only's writable /tmp and /var/tmp.
  REQUIRE(s.tmpfs.size() == 3);
  CHECK(s.tmpfs[0].destination == "/run");
  CHECK(s.tmpfs[1].destination == "/tmp");
  CHECK(s.tmpfs[2].destination == "/var/tmp");
  REQUIRE(s.networks.size() == 1);
  CHECK(s.networks[0].name == "web_front");
  for (auto alias : {"www", "site", "web-site"}) {
    CHECK(std::find(s.networks[0].aliases.begin(), s.networks[0].aliases.end(), alias) !=
          s.networks[0].aliases.end());
  }
  CHECK(s.labels.at("team") == "ops");
  CHECK(s.labels.at("io.podcd.stack") == "web");
  CHECK(s.labels.at("io.podcd.service") == "site");
  CHECK(s.labels.at("io.podcd.fingerprint") == "fp");
  CHECK(s.labels.at("io.podcd.commit") == "c0ffee");
  CHECK(s.labels.at("io.podcd.deployment") == "d-1");
  CHECK(s.labels.at("com.docker.compose.project") == "web");
  CHECK(s.labels.at("com.docker.compose.service") == "site");
  CHECK(s.restart_policy == "on-failure");
  CHECK(s.restart_retries == 3u);
  REQUIRE(s.healthcheck);
  CHECK(s.healthcheck->test == std::vector<std::string>{"CMD", "true"});
  CHECK(s.healthcheck->interval == std::chrono::seconds(2));
  CHECK(s.healthcheck->retries == 2);
  CHECK(job.has_healthcheck);
  CHECK(job.health_interval == std::chrono::seconds(2));
  CHECK(s.user == "1000:1000");
  CHECK(s.work_dir == "/srv");
  CHECK(s.hostname == "site");
  CHECK(s.cap_add == std::vector<std::string>{"NET_ADMIN"});
  CHECK(s.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(s.read_only);
  CHECK(s.init);
  CHECK(s.stop_signal == 2);
  CHECK(s.stop_timeout == 2u);  // rounded up to whole seconds
  CHECK(job.stop_grace == std::chrono::seconds(2));
  CHECK(s.extra_hosts == std::vector<std::string>{"db:10.0.0.2"});
  REQUIRE(s.log);
  CHECK(s.log->driver == "k8s-file");
  CHECK(s.log->size_bytes == 10 << 20);
  CHECK(s.dns_servers == std::vector<std::string>{"1.1.1.1"});
  CHECK(s.sysctls.at("net.core.somaxconn") == "1024");
  REQUIRE(s.ulimits.size() == 1);
  CHECK(s.ulimits[0].soft == 1024);
  CHECK(s.resources.memory_bytes == 64 << 20);
  CHECK(s.resources.cpu_quota == 50'000);
  CHECK(s.resources.cpu_period == 100'000u);
  CHECK(s.shm_size_bytes == 32 << 20);
  CHECK(s.no_new_privileges);
  CHECK(s.terminal);
  CHECK(job.pull == podman::PullPolicy::kAlways);

  reconcile::StackJob sj;
  reconcile::MapStackResources(st, sj);
  REQUIRE(sj.networks.size() == 1);
  CHECK(sj.networks[0].name == "web_front");
  CHECK(sj.networks[0].dns_enabled);
  CHECK(sj.networks[0].labels.at("io.podcd.stack") == "web");
  REQUIRE(sj.volumes.size() == 1);
  CHECK(sj.volumes[0].name == "web_data");
}

TEST_CASE("network_mode service: joins the other service's container and shares its namespace") {
  test::Repo repo;
  auto st = Load(repo, "vpn",
                 "services:\n  tunnel:\n    image: localhost/bb:1\n  app:\n    image: localhost/bb:1\n"
                 "    network_mode: service:tunnel\n");
  auto job = Map(st, "app");
  CHECK(job.spec.network_mode == "container:vpn_tunnel_1");
  CHECK(job.shares_namespace);
  CHECK(job.spec.networks.empty());
  // Started after the tunnel, or its create finds no container to join.
  REQUIRE(job.depends_on.size() == 1);
  CHECK(job.depends_on[0].service == "tunnel");
  CHECK(ToString(job.depends_on[0].condition) == "service_started");
  auto t = Map(st, "tunnel");
  CHECK(t.spec.network_mode == "bridge");
  REQUIRE(t.spec.networks.size() == 1);
  CHECK(t.spec.networks[0].name == "vpn_default");
  CHECK_FALSE(t.publishes_host_ports);
}

TEST_CASE("devices and the pid, ipc and user namespaces map onto the spec") {
  test::Repo repo;
  auto st =
      Load(repo, "media",
           "services:\n  jellyfin:\n    image: localhost/bb:1\n"
           "    devices:\n      - /dev/dri\n      - /dev/zero:/dev/myzero\n      - /dev/null:/dev/mynull:r\n"
           "      - {source: /dev/full, target: /dev/myfull, permissions: rw}\n"
           "    pid: host\n    ipc: shareable\n    userns_mode: keep-id:uid=1000\n"
           "  helper:\n    image: localhost/bb:1\n    pid: service:jellyfin\n    ipc: service:jellyfin\n");
  auto j = Map(st, "jellyfin");
  CHECK(j.spec.devices == std::vector<std::string>{"/dev/dri", "/dev/zero:/dev/myzero",
                                                   "/dev/null:/dev/mynull:r", "/dev/full:/dev/myfull:rw"});
  CHECK(j.spec.pid_mode == "host");
  CHECK(j.spec.ipc_mode == "shareable");
  CHECK(j.spec.userns_mode == "keep-id:uid=1000");
  CHECK_FALSE(j.shares_namespace);
  auto h = Map(st, "helper");
  CHECK(h.spec.pid_mode == "container:media_jellyfin_1");
  CHECK(h.spec.ipc_mode == "container:media_jellyfin_1");
  CHECK(h.shares_namespace);  // the old one goes first, as with network_mode: service
  // It joins jellyfin's container, so jellyfin's must exist first (once, for both namespaces).
  REQUIRE(h.depends_on.size() == 1);
  CHECK(h.depends_on[0].service == "jellyfin");
  CHECK(ToString(h.depends_on[0].condition) == "service_started");
  CHECK(st.Find("helper")->NamespaceServices() == std::vector<std::string>{"jellyfin"});
  CHECK(st.Find("jellyfin")->NamespaceServices().empty());
  CHECK(h.spec.devices.empty());
  CHECK(h.spec.userns_mode.empty());

  auto init =
      Load(repo, "media3", "services:\n  a:\n    image: localhost/bb:1\n    init: true\n    pid: host\n");
  auto refused = reconcile::MapService(init, *init.Find("a"), {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().What() ==
        "stack media3, service a: init: true needs the container's own pid namespace, but pid is host");

  auto bad = Load(repo, "media2", "services:\n  a:\n    image: localhost/bb:1\n    ipc: service:nope\n");
  auto r = reconcile::MapService(bad, *bad.Find("a"), {});
  REQUIRE_FALSE(r);
  CHECK(r.error().What() == "stack media2, service a: ipc service:nope: no such service");
}

TEST_CASE("a service with build: is built from its context, under a tag naming the content") {
  test::Repo repo;
  repo.Write("services/app/box/Containerfile", "FROM localhost/bb:1\nCOPY index.html /www/\n");
  repo.Write("services/app/box/index.html", "v1\n");
  const std::string yaml =
      "services:\n  box:\n    build:\n      context: ./box\n      args: {GREETING: hi}\n"
      "  named:\n    image: registry.example/me/box:1\n    pull_policy: build\n    build: ./box\n"
      "  pulled:\n    image: localhost/bb:1\n    build: ./box\n";
  auto st = Load(repo, "app", yaml);
  auto box = Map(st, "box");
  REQUIRE(box.build);
  CHECK(box.spec.image.starts_with("localhost/podcd-build/app_box:"));
  CHECK(box.spec.image.size() == std::string("localhost/podcd-build/app_box:").size() + 16);
  CHECK(box.build->tags == std::vector<std::string>{box.spec.image});
  CHECK(box.build->context_dir == (repo.Root() / "services/app/box").string());
  CHECK(box.build->dockerfile == "Containerfile");  // found, as podman build does
  CHECK(box.build->args.at("GREETING") == "hi");
  // With image and pull_policy: build, the built image also gets that name.
  auto named = Map(st, "named");
  REQUIRE(named.build);
  CHECK(named.build->tags.size() == 2);
  CHECK(named.build->tags[1] == "registry.example/me/box:1");
  // With an image and no pull_policy: build, compose pulls the image: so does podcd.
  auto pulled = Map(st, "pulled");
  CHECK_FALSE(pulled.build);
  CHECK(pulled.spec.image == "localhost/bb:1");

  // A changed file of the context is a new tag.
  repo.Write("services/app/box/index.html", "v2\n");
  auto again = Map(Load(repo, "app", yaml), "box");
  CHECK(again.spec.image != box.spec.image);
}

TEST_CASE("what the context's .dockerignore leaves out does not change the built image's tag") {
  test::Repo repo;
  repo.Write("services/app/box/Containerfile", "FROM localhost/bb:1\nCOPY . /www/\n");
  repo.Write("services/app/box/index.html", "v1\n");
  repo.Write("services/app/box/.dockerignore", "*.log\ncache\n!cache/keep\nContainerfile\n");
  repo.Write("services/app/box/debug.log", "one\n");
  repo.Write("services/app/box/cache/blob", "one\n");
  const std::string yaml = "services:\n  box:\n    build: ./box\n";
  const auto tag = Map(Load(repo, "app", yaml), "box").spec.image;

  repo.Write("services/app/box/debug.log", "two\n");
  repo.Write("services/app/box/cache/blob", "two\n");
  repo.Write("services/app/box/other.log", "new\n");
  CHECK(Map(Load(repo, "app", yaml), "box").spec.image == tag);

  // Re-included, kept (the Containerfile, whatever the ignore file says) and plain files count.
  repo.Write("services/app/box/cache/keep", "one\n");
  const auto with_keep = Map(Load(repo, "app", yaml), "box").spec.image;
  CHECK(with_keep != tag);
  repo.Write("services/app/box/Containerfile", "FROM localhost/bb:1\nCOPY . /srv/\n");
  const auto new_file = Map(Load(repo, "app", yaml), "box").spec.image;
  CHECK(new_file != with_keep);
  repo.Write("services/app/box/.dockerignore", "*.log\n");  // cache/blob counts again
  CHECK(Map(Load(repo, "app", yaml), "box").spec.image != new_file);
}

TEST_CASE("a build context that is missing, outside the repository, or without its file is an error") {
  test::Repo repo;
  auto none = repo.Load("b1", "services:\n  a:\n    build: ./nope\n");
  REQUIRE_FALSE(none);
  CHECK(test::Join(none.error()).find("the build context \"./nope\" is not a directory of the repository") !=
        std::string::npos);
  auto outside = repo.Load("b2", "services:\n  a:\n    build: ../../..\n");
  REQUIRE_FALSE(outside);
  CHECK(test::Join(outside.error()).find("points outside the repository") != std::string::npos);
  repo.Write("services/b3/ctx/README", "no Dockerfile here\n");
  auto nofile = repo.Load("b3", "services:\n  a:\n    build: {context: ctx, dockerfile: Dockerfile.prod}\n");
  REQUIRE_FALSE(nofile);
  CHECK(test::Join(nofile.error()).find("no Dockerfile.prod in the build context services/b3/ctx") !=
        std::string::npos);
}

TEST_CASE("depends_on conditions travel to the applier") {
  test::Repo repo;
  auto st = Load(repo, "app",
                 "services:\n  db:\n    image: localhost/bb:1\n  api:\n    image: localhost/bb:1\n"
                 "    depends_on: {db: {condition: service_healthy}}\n");
  auto job = Map(st, "api");
  REQUIRE(job.depends_on.size() == 1);
  CHECK(job.depends_on[0].service == "db");
  CHECK(ToString(job.depends_on[0].condition) == "service_healthy");
}

namespace {

// The tmpfs mounts of a spec, "destination options,..." each.
std::vector<std::string> TmpfsOf(const podman::ContainerSpec& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tmpfs) {
    std::string text = t.destination;
    for (std::size_t i = 0; i < t.options.size(); ++i) text += (i == 0 ? " " : ",") + t.options[i];
    out.push_back(text);
  }
  return out;
}

}  // namespace

TEST_CASE("read_only gets podman run --read-only's writable tmpfs on /run, /tmp and /var/tmp") {
  test::Repo repo;
  auto st = Load(repo, "ro",
                 "services:\n"
                 "  plain: {image: localhost/bb:1, read_only: true}\n"
                 "  own: {image: localhost/bb:1, read_only: true, tmpfs: \"/tmp/:size=1m\",\n"
                 "        volumes: [\"data:/var/tmp\"]}\n"
                 "  bound: {image: localhost/bb:1, read_only: true, volumes: [\"./run:/run\"]}\n"
                 "  writable: {image: localhost/bb:1, tmpfs: /tmp}\n"
                 "volumes: {data: {}}\n");
  const std::string kOptions = " rw,rprivate,nosuid,nodev,tmpcopyup";
  auto plain = Map(st, "plain").spec;
  CHECK(plain.read_only);
  CHECK(plain.read_write_tmpfs);
  CHECK(TmpfsOf(plain) ==
        std::vector<std::string>{"/run" + kOptions, "/tmp" + kOptions, "/var/tmp" + kOptions});
  // What the service mounts there itself stays; only the rest get the default.
  auto own = Map(st, "own").spec;
  CHECK(TmpfsOf(own) == std::vector<std::string>{"/tmp size=1m", "/run" + kOptions});
  auto bound = Map(st, "bound").spec;
  CHECK(TmpfsOf(bound) == std::vector<std::string>{"/tmp" + kOptions, "/var/tmp" + kOptions});
  auto writable = Map(st, "writable").spec;
  CHECK_FALSE(writable.read_only);
  CHECK_FALSE(writable.read_write_tmpfs);
  CHECK(TmpfsOf(writable) == std::vector<std::string>{"/tmp"});
}
