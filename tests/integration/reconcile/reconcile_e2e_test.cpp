// The reconcile engine end to end: a real git remote, the real Podman service and registry of
// scripts/testenv.sh, podcd's engine in-process (counting its write calls) and the podcd binary.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "e2e_fixture.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

// busybox httpd on 8080 serving the image's /www ("hello from bb").
std::string HttpdService(const std::string& extra = "") {
  return "    image: localhost/bb:1\n"
         "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
         "    init: true\n" +
         extra;
}

std::string Curl(std::uint16_t port, const std::string& path = "/") {
  auto r = RunCommand("curl -s --max-time 5 http://127.0.0.1:" + std::to_string(port) + path);
  return r.exit_code == 0 ? r.output : "curl failed (" + std::to_string(r.exit_code) + "): " + r.output;
}

// A container started (or, after a rollback, restarted) a moment ago: give its server a few
// seconds to listen before reading the answer (on a loaded machine httpd may not listen yet
// when the gate passes on a settle time).
std::string CurlWhenUp(std::uint16_t port, const std::string& want, const std::string& path = "/") {
  std::string got;
  for (int i = 0; i < 50; ++i) {
    got = Curl(port, path);
    if (got.find(want) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return got;
}

std::string ContainerName(const std::string& stack, const std::string& service) {
  return stack + "_" + service + "_1";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a 3-service stack with a network, aliases and a volume comes up and its services reach each other",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("three");
  const std::string compose =
      "services:\n"
      "  web:\n" +
      HttpdService("    networks: [backend]\n") + "  api:\n" +
      HttpdService("    networks:\n      backend:\n        aliases: [api-alias]\n") + "  db:\n" +
      HttpdService(
          "    networks: [backend]\n"
          "    volumes:\n      - data:/data\n") +
      "networks:\n  backend: {}\nvolumes:\n  data: {}\n";
  const std::string commit = rig.Commit({{"services/" + stack + "/compose.yml", compose}}, "three services");

  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  REQUIRE(run.Stack(stack) != nullptr);
  CHECK(run.Stack(stack)->outcome == "updated");

  auto containers = rig.Containers(stack);
  REQUIRE(containers.size() == 3);
  for (const auto& c : containers) {
    INFO(c.name);
    CHECK(c.state == "running");
    const std::string service = Label(c, core::kLabelService);
    CHECK(c.name == ContainerName(stack, service));
    CHECK(Label(c, core::kLabelStack) == stack);
    CHECK(Label(c, core::kLabelFingerprint).size() >= 16);
    CHECK(Label(c, core::kLabelCommit) == commit);
    CHECK(Label(c, core::kLabelDeployment) == run.deployment.id);
    CHECK(Label(c, core::kLabelComposeProject) == stack);
    CHECK(Label(c, core::kLabelComposeService) == service);
  }
  auto volume = rig.client().InspectVolume(stack + "_data");
  INFO((volume ? "" : volume.error().What()));
  CHECK(volume.has_value());
  auto network = rig.client().InspectNetwork(stack + "_backend");
  CHECK(network.has_value());

  // By service name, by alias, by container name, from another container of the stack.
  for (const std::string& host :
       std::vector<std::string>{"api", "api-alias", "db", ContainerName(stack, "api")}) {
    auto r = rig.Exec(ContainerName(stack, "web"), "timeout 5 wget -qO- http://" + host + ":8080/");
    INFO(host << ": " << r.output);
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.output, "hello from bb"));
  }
  auto back = rig.Exec(ContainerName(stack, "db"), "timeout 5 wget -qO- http://web:8080/");
  INFO(back.output);
  CHECK(Contains(back.output, "hello from bb"));
  // The named volume is mounted where the compose file says.
  auto mount = rig.Exec(ContainerName(stack, "db"), "sh -c 'echo kept > /data/x && cat /data/x'");
  CHECK(Contains(mount.output, "kept"));
}

TEST_CASE("a stack using another stack's network as external comes up after it, in one reconcile", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  // The app's name sorts first: applied in name order it would look for the network before
  // the proxy stack created it.
  const std::string app = rig.Stack("app");
  const std::string proxy = rig.Stack("proxy");
  const std::string shared = proxy + "-shared";
  REQUIRE(app < proxy);
  rig.Commit({{"services/" + proxy + "/compose.yml", "services:\n  front:\n" +
                                                         HttpdService("    networks: [shared]\n") +
                                                         "networks:\n  shared:\n    name: " + shared + "\n"},
              {"services/" + app + "/compose.yml",
               "services:\n  api:\n" + HttpdService("    networks: [shared]\n") +
                   "networks:\n  shared:\n    external: true\n    name: " + shared + "\n"}},
             "a proxy stack and an app behind it");
  auto run = rig.Reconcile();
  INFO(run.Describe());
  REQUIRE(run.Succeeded());
  CHECK(run.Stack(app)->outcome == "updated");
  CHECK(run.Stack(proxy)->outcome == "updated");
  // The app's log starts after the proxy's network exists.
  const std::string log = run.Log();
  CHECK(log.find("[" + proxy + "] created network " + shared) < log.find("[" + app + "] " + "api: created"));
  auto r = rig.Exec(ContainerName(app, "api"), "timeout 5 wget -qO- http://front:8080/");
  INFO(r.output);
  CHECK(Contains(r.output, "hello from bb"));
}

TEST_CASE("a service in another's network and pid namespaces starts after it and is replaced with it",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("vpn");
  auto compose = [](const std::string& v) {
    return "services:\n  tunnel:\n" + HttpdService("    environment: {V: \"" + v + "\"}\n") +
           "  app:\n    image: localhost/bb:1\n    command: [\"sleep\", \"600\"]\n"
           "    network_mode: service:tunnel\n    pid: service:tunnel\n";
  };
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, compose("1")}}, "tunnel and app");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  auto reach = [&] {
    // The app's localhost is the tunnel's; its process list holds the tunnel's httpd.
    auto r = rig.Exec(
        ContainerName(stack, "app"),
        "sh -c 'timeout 5 wget -qO- http://127.0.0.1:8080/; ps | grep -q [h]ttpd && echo sees-httpd'");
    INFO(r.output);
    CHECK(Contains(r.output, "hello from bb"));
    CHECK(Contains(r.output, "sees-httpd"));
  };
  reach();

  const auto before = rig.Ids(stack);
  rig.Commit({{file, compose("2")}}, "tunnel changes");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  const auto after = rig.Ids(stack);
  CHECK(after.at("tunnel") != before.at("tunnel"));
  CHECK(after.at("app") != before.at("app"));
  CHECK(Contains(second.Log(), "dependency tunnel recreated"));
  reach();
}

TEST_CASE("a service with build: is built from the repository, rebuilt when its context changes", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("built");
  const std::uint16_t port = FreeLoopbackPorts();
  REQUIRE(port != 0);
  const std::string compose =
      "services:\n  web:\n    build: ./site\n"
      "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
      "    init: true\n    ports: [\"127.0.0.1:" +
      std::to_string(port) + ":8080\"]\n";
  const std::string dir = "services/" + stack + "/";
  const std::string containerfile = "FROM localhost/bb:1\nARG V=none\nCOPY . /www/\n";
  rig.Commit({{dir + "compose.yml", compose},
              {dir + "site/Containerfile", containerfile},
              {dir + "site/.dockerignore", "notes-*.txt\n"},
              {dir + "site/notes-private.txt", "private1\n"},
              {dir + "site/page.txt", "v1\n"}},
             "a built site");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  CHECK(Contains(first.Log(), "built localhost/podcd-build/" + stack + "_web:"));
  CHECK(Contains(CurlWhenUp(port, "v1", "/page.txt"), "v1"));
  // .dockerignore: left out of the context Podman got.
  CHECK_FALSE(Contains(Curl(port, "/notes-private.txt"), "private1"));

  // Nothing changed: nothing built, nothing written.
  auto same = rig.Reconcile();
  INFO(same.Describe());
  REQUIRE(same.Succeeded());
  CHECK(same.writes == 0);

  // A change to an ignored file changes nothing either.
  rig.Commit({{dir + "site/notes-private.txt", "private2\n"}}, "ignored notes change");
  auto ignored = rig.Reconcile();
  INFO(ignored.Describe());
  REQUIRE(ignored.Succeeded());
  CHECK(ignored.writes == 0);

  rig.Commit({{dir + "site/page.txt", "v2\n"}}, "the page changes");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  CHECK(Contains(second.Log(), "recreated"));
  CHECK(Contains(second.Log(), "file " + dir + "site changed"));
  CHECK(Contains(CurlWhenUp(port, "v2", "/page.txt"), "v2"));

  // A build that fails changes nothing: the previous container keeps serving.
  rig.Commit({{dir + "site/Containerfile", containerfile + "RUN false\n"}}, "a broken build");
  auto broken = rig.Reconcile();
  INFO(broken.Describe());
  CHECK_FALSE(broken.Succeeded());
  CHECK(Contains(broken.Log(), "build of localhost/podcd-build/" + stack + "_web:"));
  CHECK(Contains(broken.Log(), "RUN false"));
  CHECK(Contains(CurlWhenUp(port, "v2", "/page.txt"), "v2"));
}

TEST_CASE("a changed env file recreates exactly one service; podcd plan says why; then nothing to do",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("envfile");
  const std::string dir = "services/" + stack + "/";
  const std::string compose = "services:\n  web:\n" + HttpdService() + "  api:\n" +
                              HttpdService("    env_file: [api.env]\n") + "  db:\n" + HttpdService();
  rig.Commit({{dir + "compose.yml", compose}, {dir + "api.env", "X=1\nY=same\n"}}, "stack");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 3);

  rig.Commit({{dir + "api.env", "X=2\nY=same\n"}}, "X=2");
  auto plan = rig.Cli("plan");
  INFO(plan.output);
  CHECK(plan.exit_code == 3);
  CHECK(std::regex_search(plan.output, std::regex("\\n  api +recreate +[^\\n]*environment\\.X changed")));
  CHECK(std::regex_search(plan.output, std::regex("\\n  web +unchanged")));
  CHECK_FALSE(Contains(plan.output, "environment.Y"));

  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  const auto after = rig.Ids(stack);
  REQUIRE(after.size() == 3);
  CHECK(after.at("web") == before.at("web"));
  CHECK(after.at("db") == before.at("db"));
  CHECK(after.at("api") != before.at("api"));
  auto x = rig.Exec(ContainerName(stack, "api"), "sh -c 'echo $X'");
  CHECK(Contains(x.output, "2"));

  auto third = rig.Reconcile();
  INFO(third.Describe());
  CHECK(third.Succeeded());
  CHECK(third.writes == 0);
  CHECK(rig.Ids(stack) == after);
  auto plan_again = rig.Cli("plan");
  INFO(plan_again.output);
  CHECK(plan_again.exit_code == 0);
}

TEST_CASE("a bad image tag fails the stack before anything stops", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("badtag");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, "services:\n  web:\n" + HttpdService() + "  api:\n" + HttpdService()}}, "good");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);

  const std::string bad = env.registry + "/bb:no-such-tag";
  std::string api = HttpdService();
  api.replace(api.find("localhost/bb:1"), 14, bad);
  rig.Commit({{file, "services:\n  web:\n" + HttpdService() + "  api:\n" + api}}, "bad tag");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  REQUIRE(second.Stack(stack) != nullptr);
  CHECK(second.Stack(stack)->outcome == "failed");
  CHECK(Contains(second.Stack(stack)->reason, "manifest unknown"));
  CHECK(Contains(second.Stack(stack)->reason, bad));
  CHECK(rig.Ids(stack) == before);
  for (const auto& [service, id] : before) CHECK(rig.Running(id));
  // Nothing but the failed pull was attempted.
  for (const auto& w : second.write_log) CHECK(w.starts_with("pull "));
}

TEST_CASE("a new container that fails its healthcheck is rolled back and the old one serves again", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s", .health_timeout = "10s"});
  const std::string stack = rig.Stack("unhealthy");
  const std::uint16_t port = FreeLoopbackPorts();
  REQUIRE(port != 0);
  const std::string file = "services/" + stack + "/compose.yml";
  const std::string ports = "    ports: [\"127.0.0.1:" + std::to_string(port) + ":8080\"]\n";
  rig.Commit({{file, "services:\n  web:\n" + HttpdService(ports)}}, "web");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));

  rig.Commit({{file, "services:\n  web:\n" +
                         HttpdService(ports + "    healthcheck:\n      test: [\"CMD\", \"false\"]\n"
                                              "      interval: 1s\n      timeout: 1s\n      retries: 2\n")}},
             "failing healthcheck");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  REQUIRE(second.Stack(stack) != nullptr);
  CHECK(second.Stack(stack)->outcome == "failed");
  CHECK(Contains(second.Log(), "rolled-back"));
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Running(before.at("web")));
  CHECK(rig.Containers(stack).size() == 1);
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));
}

TEST_CASE("a new image under the same tag is picked up by redeploy-and-update, only where it changed",
          "[e2e]") {
  PODCD_E2E_SETUP();
  REQUIRE_FALSE(env.registry.empty());
  Rig rig(env);
  const std::string stack = rig.Stack("update");
  const std::string image = env.registry + "/" + stack + ":1";
  const std::string local_v2 = "localhost/" + stack + ":v2";
  const std::string builder = stack + "-builder";
  rig.Foreign(builder);
  struct Images {
    std::vector<std::string> names;
    ~Images() {
      for (const auto& n : names) RunCommand("podman rmi -f " + Quote(n) + " >/dev/null");
    }
  } images{{image, local_v2}};
  Sh("podman tag localhost/bb:1 " + Quote(image) + " && podman push -q --tls-verify=false " + Quote(image));
  const std::uint16_t port = FreeLoopbackPorts(2);
  REQUIRE(port != 0);
  const std::uint16_t built_port = port + 1;
  std::string app = HttpdService("    ports: [\"127.0.0.1:" + std::to_string(port) + ":8080\"]\n");
  app.replace(app.find("localhost/bb:1"), 14, image);
  // A service built FROM that image: its base moves with it.
  const std::string built =
      "    build: ./site\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
      "    init: true\n    ports: [\"127.0.0.1:" +
      std::to_string(built_port) + ":8080\"]\n";
  rig.Commit({{"services/" + stack + "/compose.yml",
               "services:\n  app:\n" + app + "  other:\n" + HttpdService() + "  built:\n" + built},
              {"services/" + stack + "/site/Containerfile", "FROM " + image + "\nRUN true\n"}},
             "stack");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));
  CHECK(Contains(Curl(built_port), "hello from bb"));

  // Image 2: bb:1 with another index.html, pushed under the same tag.
  Sh("podman run --name " + Quote(builder) + " localhost/bb:1 sh -c 'echo hello from v2 > /www/index.html'");
  Sh("podman commit -q " + Quote(builder) + " " + Quote(local_v2) + " && podman push -q --tls-verify=false " +
     Quote(local_v2) + " " + Quote(image));

  // A plain deploy does not look at the registry.
  auto plain = rig.Reconcile();
  INFO(plain.Describe());
  CHECK(plain.Succeeded());
  CHECK(plain.writes == 0);
  CHECK(rig.Ids(stack) == before);

  state::Trigger t;
  t.kind = state::TriggerKind::kRedeployAndUpdate;
  t.stacks = {stack};
  auto update = rig.Reconcile(t);
  INFO(update.Describe());
  REQUIRE(update.Succeeded());
  const auto after = rig.Ids(stack);
  CHECK(after.at("app") != before.at("app"));
  CHECK(after.at("other") == before.at("other"));
  CHECK(after.at("built") != before.at("built"));
  CHECK(Contains(CurlWhenUp(port, "hello from v2"), "hello from v2"));
  CHECK(Contains(Curl(built_port), "hello from v2"));

  // Same again: the registry has nothing newer, nothing is recreated.
  auto again = rig.Reconcile(t);
  INFO(again.Describe());
  CHECK(again.Succeeded());
  CHECK(rig.Ids(stack) == after);
}

TEST_CASE("prune off keeps a deleted stack; prune on removes its containers and network, keeps its volume",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.prune = false});
  const std::string stack = rig.Stack("prune");
  const std::string keep = rig.Stack("keep");
  rig.Commit({{"services/" + stack + "/compose.yml",
               "services:\n  a:\n" + HttpdService("    volumes: [\"data:/data\"]\n") + "  b:\n" +
                   HttpdService() + "volumes:\n  data: {}\n"},
              {"services/" + keep + "/compose.yml", "services:\n  k:\n" + HttpdService()}},
             "two stacks");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  const auto kept = rig.Ids(keep);
  REQUIRE(before.size() == 2);
  REQUIRE(rig.client().NetworkExists(stack + "_default").value_or(false));

  rig.Commit({}, "drop the stack", {"services/" + stack});
  auto off = rig.Reconcile();
  INFO(off.Describe());
  CHECK(off.Succeeded());
  CHECK(off.writes == 0);
  CHECK(rig.Ids(stack) == before);
  for (const auto& [service, id] : before) CHECK(rig.Running(id));

  rig.SetOptions({.prune = true});
  auto on = rig.Reconcile();
  INFO(on.Describe());
  CHECK(on.Succeeded());
  CHECK(rig.Containers(stack).empty());
  CHECK_FALSE(rig.client().NetworkExists(stack + "_default").value_or(true));
  CHECK(rig.client().VolumeExists(stack + "_data").value_or(false));
  CHECK(Contains(on.Log(), stack + "_data"));
  CHECK(rig.Ids(keep) == kept);
}

TEST_CASE("SIGKILL of podcd deploy while it replaces a service, then a reconcile converges", "[e2e]") {
  PODCD_E2E_SETUP();
  // A long settle keeps the new container in its gate, under its temporary name.
  Rig rig(env, {.settle = "60s"});
  const std::string stack = rig.Stack("crash");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.SetOptions({.settle = "1s"});
  rig.Commit({{file, "services:\n  svc:\n" + HttpdService("    environment: {V: \"1\"}\n") + "  other:\n" +
                         HttpdService()}},
             "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);

  const std::string commit =
      rig.Commit({{file, "services:\n  svc:\n" + HttpdService("    environment: {V: \"2\"}\n") +
                             "  other:\n" + HttpdService()}},
                 "v2");
  rig.SetOptions({.settle = "60s"});
  const pid_t pid = rig.SpawnDeploy();
  bool seen = false;
  for (int i = 0; i < 600 && !seen; ++i) {
    for (const auto& c : rig.Containers(stack)) {
      if (c.name.ends_with("_podcd-next") && c.state == "running") seen = true;
    }
    if (!seen) std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(rig.ReadLog());
  REQUIRE(seen);
  // The old container still serves while the new one was in its gate.
  CHECK(rig.Running(before.at("svc")));

  rig.SetOptions({.settle = "1s"});
  auto recovery = rig.Reconcile();
  INFO(recovery.Describe());
  REQUIRE(recovery.Succeeded());
  auto containers = rig.Containers(stack);
  CHECK(containers.size() == 2);
  for (const auto& c : containers) {
    INFO(c.name);
    CHECK_FALSE(c.name.ends_with("_podcd-next"));
    CHECK(Label(c, core::kLabelTemporary) != "true");
    CHECK(c.state == "running");
    if (Label(c, core::kLabelService) == "svc") CHECK(Label(c, core::kLabelCommit) == commit);
  }
  auto env_v = rig.Exec(ContainerName(stack, "svc"), "sh -c 'echo V=$V'");
  CHECK(Contains(env_v.output, "V=2"));
  CHECK(rig.Ids(stack).at("other") == before.at("other"));
  auto plan = rig.Cli("plan");
  INFO(plan.output);
  CHECK(plan.exit_code == 0);
}

TEST_CASE("a host port conflict reports Podman's reason and leaves the previous container running", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s"});
  const std::string stack = rig.Stack("portclash");
  const std::uint16_t port = FreeLoopbackPorts(2);
  REQUIRE(port != 0);
  const std::uint16_t taken = port + 1;
  const std::string file = "services/" + stack + "/compose.yml";
  auto compose = [&](std::uint16_t p) {
    return "services:\n  web:\n" +
           HttpdService("    ports: [\"127.0.0.1:" + std::to_string(p) + ":8080\"]\n");
  };
  rig.Commit({{file, compose(port)}}, "web on port");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);

  const std::string foreign = stack + "-foreign";
  rig.Foreign(foreign);
  Sh("podman run -d --name " + Quote(foreign) + " -p 127.0.0.1:" + std::to_string(taken) +
     ":8080 localhost/bb:1 httpd -f -p 8080 -h /www");
  rig.Commit({{file, compose(taken)}}, "web on a taken port");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  CHECK_FALSE(second.Succeeded());
  REQUIRE(second.Stack(stack) != nullptr);
  CHECK(second.Stack(stack)->outcome == "failed");
  CHECK(Contains(second.Stack(stack)->reason, "address already in use"));
  CHECK(rig.Ids(stack) == before);
  CHECK(rig.Running(before.at("web")));
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));
}

TEST_CASE("a service without host ports is replaced with zero downtime", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "2s"});
  const std::string stack = rig.Stack("zerodt");
  const std::string file = "services/" + stack + "/compose.yml";
  // The prober is a client with one retry 200 ms later, like a reverse proxy: aardvark-dns can answer
  // the old container's address for a moment after it left the network (its reload is
  // asynchronous), and a request sent there hangs. One retry goes to the new container; a
  // request that fails twice is a FAIL. It needs arp_notify on the host (docs/testing.md).
  const std::string prober =
      "  prober:\n"
      "    image: localhost/bb:1\n"
      "    init: true\n"
      "    command: [\"sh\", \"-c\", \"while true; do timeout 1 wget -qO- http://svc-alias:8080/ || "
      "(sleep 0.2; timeout 1 wget -qO- http://svc-alias:8080/) || echo FAIL; "
      "sleep 0.05; done\"]\n";
  auto compose = [&](const std::string& v) {
    return "services:\n  svc:\n" +
           HttpdService("    environment: {V: \"" + v +
                        "\"}\n    networks:\n      default:\n        aliases: [svc-alias]\n") +
           prober;
  };
  rig.Commit({{file, compose("1")}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);
  const std::string logs_cmd = "podman logs " + Quote(ContainerName(stack, "prober"));
  // Wait until the prober gets answers, then count from here.
  std::string out;
  for (int i = 0; i < 100; ++i) {
    out = RunCommand(logs_cmd).output;
    if (Contains(out, "hello from bb")) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(Contains(out, "hello from bb"));
  const std::size_t mark = out.size();

  rig.Commit({{file, compose("2")}}, "v2");
  auto second = rig.Reconcile();
  INFO(second.Describe());
  REQUIRE(second.Succeeded());
  std::this_thread::sleep_for(1500ms);
  const auto after = rig.Ids(stack);
  CHECK(after.at("svc") != before.at("svc"));
  CHECK(after.at("prober") == before.at("prober"));
  out = RunCommand(logs_cmd).output;
  REQUIRE(out.size() > mark);
  const std::string during = out.substr(mark);
  std::size_t answers = 0;
  for (std::size_t at = during.find("hello from bb"); at != std::string::npos;
       at = during.find("hello from bb", at + 1)) {
    ++answers;
  }
  INFO(during);
  CHECK(answers >= 20);
  CHECK_FALSE(Contains(during, "FAIL"));
  CHECK(std::regex_search(second.Log(), std::regex("svc[^\\n]*recreated[^\\n]*\\(gap 0 ms\\)")));
}

TEST_CASE(
    "SIGKILL of podcd deploy after it stopped a host-port service's old container, then a reconcile "
    "converges",
    "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env, {.settle = "1s"});
  const std::string stack = rig.Stack("crashport");
  const std::uint16_t port = FreeLoopbackPorts();
  REQUIRE(port != 0);
  const std::string file = "services/" + stack + "/compose.yml";
  // A healthcheck that takes 3 s keeps the new container in its gate while the old one is
  // stopped (the host port forces the old one to go first).
  auto compose = [&](const std::string& v) {
    return "services:\n  web:\n" +
           HttpdService("    environment: {V: \"" + v +
                        "\"}\n    ports: [\"127.0.0.1:" + std::to_string(port) +
                        ":8080\"]\n    healthcheck:\n      test: [\"CMD\", \"sh\", \"-c\", \"sleep 3\"]\n"
                        "      interval: 1s\n      timeout: 10s\n");
  };
  rig.Commit({{file, compose("1")}}, "v1");
  auto first = rig.Reconcile();
  INFO(first.Describe());
  REQUIRE(first.Succeeded());
  const auto before = rig.Ids(stack);

  const std::string commit = rig.Commit({{file, compose("2")}}, "v2");
  const pid_t pid = rig.SpawnDeploy();
  bool seen = false;
  for (int i = 0; i < 600 && !seen; ++i) {
    for (const auto& c : rig.Containers(stack)) {
      if (c.name.ends_with("_podcd-next") && c.state == "running") seen = true;
    }
    if (!seen) std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(rig.ReadLog());
  REQUIRE(seen);
  CHECK_FALSE(rig.Running(before.at("web")));  // the old one was stopped for the port

  auto recovery = rig.Reconcile();
  INFO(recovery.Describe());
  REQUIRE(recovery.Succeeded());
  auto containers = rig.Containers(stack);
  REQUIRE(containers.size() == 1);
  CHECK(containers[0].name == ContainerName(stack, "web"));
  CHECK(containers[0].state == "running");
  CHECK(Label(containers[0], core::kLabelCommit) == commit);
  CHECK(Contains(CurlWhenUp(port, "hello from bb"), "hello from bb"));
  auto plan = rig.Cli("plan");
  INFO(plan.output);
  CHECK(plan.exit_code == 0);
}

TEST_CASE("podcd's own stack is left alone by a podcd that does not run in one of its containers", "[e2e]") {
  PODCD_E2E_SETUP();
  // The test process is this podcd, and it runs in no container: the self stack must not get a
  // second podcd (it would fight the first over the port and the state directory).
  Rig rig(env);
  const std::string self = rig.Stack("self");
  rig.SetSelfStack(self);
  const std::string other = rig.Stack("other");
  rig.Commit({{"services/" + self + "/compose.yml", "services:\n  podcd:\n" + HttpdService()},
              {"services/" + other + "/compose.yml", "services:\n  web:\n" + HttpdService()}},
             "self and other");
  auto r = rig.Reconcile();
  INFO(r.Describe());
  REQUIRE(r.Succeeded());
  CHECK(rig.Ids(self).empty());
  CHECK(rig.Ids(other).size() == 1);
  CHECK(Contains(r.Log(), "is podcd's own (self.stack)"));
  CHECK(Contains(r.Describe(), "skipped"));
}

namespace {

// Pids of the daemon's worker processes running `command` (their parent is the daemon).
std::vector<pid_t> WorkerPids(pid_t daemon, const std::string& command) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != daemon) continue;
    std::ifstream cmdline(e.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find(command) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

// The record of the reconcile that the `nth` SIGHUP with a changed configuration queued, once
// it has finished (two minutes at most).
std::string WaitForReload(Daemon& d, int nth) {
  REQUIRE(d.WaitForLog("SIGHUP: the configuration changed; reconcile queued", nth));
  const std::string log = d.Log();
  std::vector<std::string> ids;
  const std::regex queued("configuration changed; reconcile queued deployment=([0-9-]+)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), queued); it != std::sregex_iterator(); ++it)
    ids.push_back((*it)[1]);
  REQUIRE(ids.size() >= static_cast<std::size_t>(nth));
  std::string record;
  for (int i = 0; i < 1200; ++i) {
    record = Call("GET", d.Url("/deployments/" + ids[static_cast<std::size_t>(nth - 1)]), {}, "").body;
    const std::string state = JsonField(record, "state");
    if (state == "succeeded" || state == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  return record;
}

}  // namespace

TEST_CASE("podcd serve deploys in its worker; a killed worker fails only its run; the next one converges",
          "[e2e]") {
  PODCD_E2E_SETUP();
  // A replacement waits 30 s in the health gate: time to kill its worker there.
  Rig rig(env, {.settle = "30s", .health_timeout = "60s"});
  const std::string stack = rig.Stack("daemon");
  const std::string file = "services/" + stack + "/compose.yml";
  rig.Commit({{file, "services:\n  web:\n" + HttpdService()}}, "web");
  Daemon d(rig.dir() / "podcd.yml", rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(d.Log());
  REQUIRE(d.port() != 0);
  // The start-up reconcile creates the stack (a new service is not held for the settle time);
  // this run queues behind it and finds nothing to do.
  auto first = Call("POST", d.Url("/deploy?wait=120"), {}, R"({"all_changed":true})");
  INFO(first.body);
  REQUIRE(first.status == 200);
  const auto before = rig.Ids(stack);
  REQUIRE(before.size() == 1);
  REQUIRE(rig.Running(before.at("web")));

  auto stacks = Call("GET", d.Url("/stacks"), {}, "");
  INFO(stacks.body);
  CHECK(Contains(stacks.body, "\"name\":\"" + stack + "\""));
  CHECK(std::regex_search(stacks.body, std::regex("\"name\":\"" + stack + "\"[^}]*\"state\":\"in-sync\"")));
  // Each service's container as Podman shows it, for the dashboard; nothing to do, no reasons.
  CHECK(Contains(stacks.body, "\"services\":[{\"name\":\"web\",\"container\":\"" + stack +
                                  "_web_1\",\"status\":\"running\",\"health\":\""));
  CHECK(Contains(stacks.body, "\"reasons\":[],\"changes\":[]"));
  // What the workers counted is the daemon's to show.
  auto metrics = Call("GET", d.Url("/metrics"), {}, "");
  CHECK(Contains(metrics.body, "podcd_podman_call_seconds_count{call="));
  CHECK(Contains(metrics.body, "podcd_git_sync_seconds_count{ok=\"true\"}"));

  rig.Commit({{file, "services:\n  web:\n" + HttpdService("    environment: [V=2]\n")}}, "v2");
  auto queued = Call("POST", d.Url("/deploy"), {}, R"({"all_changed":true})");
  REQUIRE(queued.status == 202);
  const std::string id = JsonField(queued.body, "deployment");
  REQUIRE_FALSE(id.empty());
  // Kill the worker once the new container runs beside the old one, in the health gate.
  for (int i = 0; i < 600 && rig.Containers(stack).size() < 2; ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(rig.Containers(stack).size() == 2);
  const auto workers = WorkerPids(d.Pid(), "__run");
  REQUIRE(workers.size() == 1);
  REQUIRE(kill(workers.front(), SIGKILL) == 0);
  std::string record;
  for (int i = 0; i < 100; ++i) {
    record = Call("GET", d.Url("/deployments/" + id), {}, "").body;
    if (JsonField(record, "state") == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(record);
  CHECK(JsonField(record, "state") == "failed");
  CHECK(Contains(JsonField(record, "reason"), "ended without a result: killed by signal 9 (SIGKILL)"));
  CHECK(rig.Running(before.at("web")));  // the old container never stopped
  CHECK(d.Running());
  // The work tree is at v2 now: GET /stacks says why the stack is not in sync, field by field;
  // the container keeps no value of V (a field added has none), the repository gives the new one.
  auto changed = Call("GET", d.Url("/stacks"), {}, "");
  INFO(changed.body);
  CHECK(Contains(changed.body, "\"web: environment.V added\""));
  CHECK(Contains(changed.body,
                 R"({"service":"web","field":"environment.V","change":"added","old":null,"new":"2"})"));
  CHECK(Call("GET", d.Url("/health"), {}, "").status == 200);

  // SIGHUP: the next worker runs with the reloaded settle time; it finishes the interrupted
  // replacement and converges.
  rig.SetOptions({.settle = "1s", .health_timeout = "60s"});
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: configuration reloaded"));
  // The changed configuration queues a reconcile of its own, which finishes the replacement.
  const std::string reloaded = WaitForReload(d, 1);
  INFO(reloaded);
  CHECK(JsonField(reloaded, "state") == "succeeded");
  CHECK(Contains(reloaded, "recovered interrupted deployment"));
  auto again = Call("POST", d.Url("/deploy?wait=120"), {}, R"({"all_changed":true})");
  INFO(again.body);
  CHECK(again.status == 200);
  const auto after = rig.Ids(stack);
  REQUIRE(after.size() == 1);
  CHECK(rig.Running(after.at("web")));
  CHECK(Label(rig.Containers(stack).front(), core::kLabelCommit).empty() == false);

  // SIGTERM while a replacement waits in its gate: rolled back at once, recorded interrupted.
  rig.SetOptions({.settle = "60s", .health_timeout = "120s"});
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("SIGHUP: configuration reloaded", 2));
  CHECK(JsonField(WaitForReload(d, 2), "state") == "succeeded");  // nothing to do yet
  rig.Commit({{file, "services:\n  web:\n" + HttpdService("    environment: [V=3]\n")}}, "v3");
  auto third = Call("POST", d.Url("/deploy"), {}, R"({"all_changed":true})");
  REQUIRE(third.status == 202);
  const std::string third_id = JsonField(third.body, "deployment");
  for (int i = 0; i < 600 && rig.Containers(stack).size() < 2; ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(rig.Containers(stack).size() == 2);
  const auto stop_start = std::chrono::steady_clock::now();
  CHECK(d.Terminate() == 0);
  CHECK(std::chrono::steady_clock::now() - stop_start < 20s);  // not the 60 s settle time
  CHECK(rig.Ids(stack) == after);
  CHECK(rig.Running(after.at("web")));
  auto store = state::Store::Open(rig.dir() / "state");
  REQUIRE(store);
  auto rec = (*store)->Get(third_id);
  REQUIRE(rec);
  CHECK(rec->state == state::DeploymentState::kFailed);
  CHECK(rec->reason == "interrupted");
  REQUIRE(rec->stacks.size() == 1);
  CHECK(rec->stacks[0].outcome == "failed");
  CHECK(Contains(rec->stacks[0].reason, "podcd is stopping"));
  // Not the stack's fault: no back-off holds it at this fingerprint.
  std::ifstream backoff(rig.dir() / "state" / "backoff.json");
  const std::string remembered((std::istreambuf_iterator<char>(backoff)), std::istreambuf_iterator<char>());
  CHECK_FALSE(Contains(remembered, stack));
}
