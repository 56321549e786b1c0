// podman::Client against the real Podman API service and registry from scripts/testenv.sh.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "podman/auth.hpp"
#include "podman/client.hpp"
#include "support/podman_env.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "util/base64.hpp"
#include "util/scope_exit.hpp"

using namespace podcd;
using namespace podcd::podman;
using namespace std::chrono_literals;

namespace {

// Container spec for a long-running busybox: init makes stop immediate (sleep ignores TERM).
ContainerSpec Sleeper(const test::PodmanEnv& env, const std::string& name) {
  ContainerSpec spec;
  spec.name = name;
  spec.image = env.image;
  spec.command = {"sleep", "600"};
  spec.init = true;
  return spec;
}

std::string Describe(const Error& e) { return e.What(); }

// Polls the container's log until `text` shows up (at most about 10 s).
bool WaitForLog(Client& client, const std::string& id, const std::string& text) {
  for (int i = 0; i < 200; ++i) {
    auto logs = client.Logs(id, 0);
    if (logs && logs->combined.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// The password-protected registry scripts/testenv.sh starts, from its environment.
struct AuthRegistry {
  std::string host, user, password;
};
AuthRegistry GetAuthRegistry() {
  const char* host = std::getenv("PODCD_TEST_AUTH_REGISTRY");
  const char* user = std::getenv("PODCD_TEST_AUTH_USER");
  const char* password = std::getenv("PODCD_TEST_AUTH_PASSWORD");
  REQUIRE(host != nullptr);
  REQUIRE(user != nullptr);
  REQUIRE(password != nullptr);
  return {host, user, password};
}

// A containers-auth.json with one entry.
std::string AuthJson(const std::string& host, const std::string& user, const std::string& password) {
  return R"({"auths":{")" + host + R"(":{"auth":")" + Base64Encode(user + ":" + password, false) + R"("}}})";
}

}  // namespace

TEST_CASE("ping and version", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto ping = client.Ping();
  REQUIRE(ping.has_value());
  auto version = client.Version();
  REQUIRE(version.has_value());
  CHECK(version->version.starts_with("4."));
  CHECK(version->api_version.starts_with("4."));
  // Every call above and below goes over the one connection the client opened.
  for (int i = 0; i < 20; ++i) REQUIRE(client.Ping().has_value());
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("pull from the loopback registry, policies always and missing", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  REQUIRE_FALSE(env.registry.empty());
  auto local = client.InspectImage(env.image);
  REQUIRE(local.has_value());

  auto pulled = client.Pull(env.registry_image, PullPolicy::kAlways);
  INFO((pulled ? "" : Describe(pulled.error())));
  REQUIRE(pulled.has_value());
  // The registry copy was pushed from localhost/bb:1: same config, same image id.
  CHECK(*pulled == local->id);
  auto exists = client.ImageExists(env.registry_image);
  REQUIRE(exists.has_value());
  CHECK(*exists);

  auto again = client.Pull(env.registry_image, PullPolicy::kMissing);
  REQUIRE(again.has_value());
  CHECK(*again == *pulled);

  auto info = client.InspectImage(env.registry_image);
  REQUIRE(info.has_value());
  CHECK(info->id == *pulled);
  CHECK(info->digest.starts_with("sha256:"));
}

TEST_CASE("pull policies against a new image pushed under the same tag", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  // The podman CLI must see the test store: scripts/test.sh exports its configuration.
  if (std::getenv("CONTAINERS_STORAGE_CONF") == nullptr)
    PODCD_SKIP("CONTAINERS_STORAGE_CONF is unset (source the test env's env.sh)");
  const std::string ref = env.registry + "/" + test::UniqueName("img") + ":1";
  const std::string local_v2 = "localhost/" + test::UniqueName("img") + ":2";
  ScopeExit remove_images([&] { test::RunCommand("podman rmi -f " + ref + " " + local_v2 + " >/dev/null"); });
  auto push = [](const std::string& from, const std::string& to) {
    return test::RunCommand("podman push -q --tls-verify=false " + from + " " + to);
  };
  auto pushed = push(env.image, ref);
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
  auto v1 = client.Pull(ref, PullPolicy::kAlways);
  REQUIRE(v1.has_value());

  // A second image (a container's change committed) goes to the registry under the same tag.
  auto writer = Sleeper(env, cleanup.Container(test::UniqueName("writer")));
  writer.command = {"sh", "-c", "echo v2 > /v2"};
  auto writer_id = client.CreateContainer(writer);
  REQUIRE(writer_id.has_value());
  REQUIRE(client.StartContainer(*writer_id).has_value());
  REQUIRE(client.WaitContainer(*writer_id).has_value());
  auto committed = test::RunCommand("podman commit -q " + *writer_id + " " + local_v2);
  INFO(committed.output);
  REQUIRE(committed.exit_code == 0);
  pushed = push(local_v2, ref);
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
  auto v2_local = client.InspectImage(local_v2);
  REQUIRE(v2_local.has_value());
  REQUIRE(v2_local->id != *v1);

  auto missing = client.Pull(ref, PullPolicy::kMissing);
  REQUIRE(missing.has_value());
  CHECK(*missing == *v1);  // present locally: not pulled again
  auto newer = client.Pull(ref, PullPolicy::kNewer);
  REQUIRE(newer.has_value());
  CHECK(*newer == v2_local->id);
  auto always = client.Pull(ref, PullPolicy::kAlways);
  REQUIRE(always.has_value());
  CHECK(*always == v2_local->id);
  auto inspected = client.InspectImage(ref);
  REQUIRE(inspected.has_value());
  CHECK(inspected->id == v2_local->id);
}

TEST_CASE("a pull of a missing tag fails with the registry's reason", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const std::string ref = env.registry + "/bb:no-such-tag";
  auto pulled = client.Pull(ref, PullPolicy::kAlways);
  REQUIRE_FALSE(pulled.has_value());
  INFO(Describe(pulled.error()));
  CHECK(pulled.error().message.find("manifest unknown") != std::string::npos);
  CHECK(pulled.error().code == ErrorCode::kNotFound);
  CHECK(pulled.error().context.find(ref) != std::string::npos);

  auto exists = client.ImageExists(ref);
  REQUIRE(exists.has_value());
  CHECK_FALSE(*exists);
}

TEST_CASE("a build pulls a base image from a registry that wants the auth file's credentials", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const AuthRegistry reg = GetAuthRegistry();
  const std::string base = reg.host + "/bb:1";
  const std::string tag = "localhost/podcd-test/authbuild:1";
  auto forget = [&] { test::RunCommand("podman rmi -f " + base + " " + tag + " >/dev/null 2>&1"); };
  forget();  // the base image must come from the registry, not from an earlier test
  ScopeExit forget_at_end(forget);
  test::TempDir dir;
  dir.Write("ctx/Containerfile", "FROM " + base + "\nRUN echo built > /built.txt\n");
  BuildRequest build;
  build.context_dir = (dir / "ctx").string();
  build.dockerfile = "Containerfile";
  build.tags = {tag};

  auto refused = client.Build(build);
  REQUIRE_FALSE(refused.has_value());
  INFO(Describe(refused.error()));
  CHECK(refused.error().What().find("authentication required") != std::string::npos);

  ClientOptions options = test::TestClientOptions(env);
  options.auth_file = dir.Write("auth.json", AuthJson(reg.host, reg.user, reg.password)).string();
  Client with_auth(options);
  auto built = with_auth.Build(build);
  INFO((built ? "" : Describe(built.error())));
  REQUIRE(built.has_value());
  auto exists = client.ImageExists(tag);
  REQUIRE(exists.has_value());
  CHECK(*exists);
}

TEST_CASE("pull sends credentials from a containers-auth.json", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const AuthRegistry reg = GetAuthRegistry();
  const std::string ref = reg.host + "/bb:1";
  test::TempDir dir;
  ClientOptions options = test::TestClientOptions(env);

  // Without credentials the protected registry refuses.
  auto refused = client.Pull(ref, PullPolicy::kAlways);
  REQUIRE_FALSE(refused.has_value());
  INFO(Describe(refused.error()));
  CHECK(refused.error().code == ErrorCode::kUnauthenticated);
  CHECK(refused.error().message.find("authentication required") != std::string::npos);

  // The configured auth file's entry for the registry is sent as X-Registry-Auth.
  options.auth_file = dir.Write("auth.json", AuthJson(reg.host, reg.user, reg.password)).string();
  Client with_auth(options);
  auto pulled = with_auth.Pull(ref, PullPolicy::kAlways);
  INFO((pulled ? "" : Describe(pulled.error())));
  REQUIRE(pulled.has_value());
  auto local = client.InspectImage(env.image);
  REQUIRE(local.has_value());
  CHECK(*pulled == local->id);

  // A wrong password is refused by the registry, and the error says so.
  options.auth_file = dir.Write("wrong.json", AuthJson(reg.host, reg.user, "wrong")).string();
  Client wrong(options);
  auto denied = wrong.Pull(ref, PullPolicy::kAlways);
  REQUIRE_FALSE(denied.has_value());
  INFO(Describe(denied.error()));
  CHECK(denied.error().code == ErrorCode::kUnauthenticated);

  // Credentials for another registry are not sent.
  options.auth_file = dir.Write("other.json", AuthJson("other.example", reg.user, reg.password)).string();
  Client other(options);
  CHECK_FALSE(other.Pull(ref, PullPolicy::kAlways).has_value());

  // Without a configured file, REGISTRY_AUTH_FILE is used.
  options.auth_file.clear();
  ::setenv("REGISTRY_AUTH_FILE", (dir / "auth.json").c_str(), 1);
  Client from_env(options);
  auto env_pulled = from_env.Pull(ref, PullPolicy::kAlways);
  ::unsetenv("REGISTRY_AUTH_FILE");
  INFO((env_pulled ? "" : Describe(env_pulled.error())));
  CHECK(env_pulled.has_value());

  options.auth_file = (dir / "missing.json").string();
  Client missing(options);
  auto failed = missing.Pull(env.registry_image, PullPolicy::kAlways);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message.find("missing.json") != std::string::npos);

  auto bad = dir.Write("bad.json", R"({"auths":{")" + env.registry + R"(":{"auth":"!!"}}})");
  options.auth_file = bad.string();
  Client bad_client(options);
  auto unreadable = bad_client.Pull(env.registry_image, PullPolicy::kAlways);
  REQUIRE_FALSE(unreadable.has_value());
  CHECK(unreadable.error().What().find("bad.json") != std::string::npos);
}

TEST_CASE("network with DNS: two containers resolve each other by alias", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  NetworkCreate net;
  net.name = cleanup.Network(test::UniqueName("net"));
  net.labels = {{"io.podcd.test", "dns"}};
  auto created = client.CreateNetwork(net);
  INFO((created ? "" : Describe(created.error())));
  REQUIRE(created.has_value());
  CHECK(created->dns_enabled);
  CHECK(created->labels.at("io.podcd.test") == "dns");

  auto again = client.CreateNetwork(net);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == ErrorCode::kAlreadyExists);

  auto inspected = client.InspectNetwork(net.name);
  REQUIRE(inspected.has_value());
  CHECK(inspected->dns_enabled);
  CHECK(inspected->driver == "bridge");
  CHECK_FALSE(inspected->internal);

  auto server = Sleeper(env, cleanup.Container(test::UniqueName("alpha")));
  server.networks = {{net.name, {"alpha-alias"}}};
  auto server_id = client.CreateContainer(server);
  REQUIRE(server_id.has_value());
  REQUIRE(client.StartContainer(*server_id).has_value());

  auto probe = Sleeper(env, cleanup.Container(test::UniqueName("beta")));
  probe.command = {"sh", "-c", "ping -c1 -W5 alpha-alias && nslookup alpha-alias"};
  probe.networks = {{net.name, {"beta-alias"}}};
  auto probe_id = client.CreateContainer(probe);
  REQUIRE(probe_id.has_value());
  REQUIRE(client.StartContainer(*probe_id).has_value());
  auto code = client.WaitContainer(*probe_id, "stopped");
  REQUIRE(code.has_value());
  auto logs = client.Logs(*probe_id, 0);
  REQUIRE(logs.has_value());
  INFO(logs->combined);
  CHECK(*code == 0);
  CHECK(logs->out.find("1 packets received") != std::string::npos);

  REQUIRE(client.RemoveContainer(*probe_id, true, 0s).has_value());
  REQUIRE(client.RemoveContainer(*server_id, true, 0s).has_value());
  REQUIRE(client.RemoveNetwork(net.name).has_value());
  auto exists = client.NetworkExists(net.name);
  REQUIRE(exists.has_value());
  CHECK_FALSE(*exists);
  auto gone = client.RemoveNetwork(net.name);
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == ErrorCode::kNotFound);
  CHECK(gone.error().message.find("network not found") != std::string::npos);
}

// What SetAliases does for a replacement's new container: off the network and back on with new
// aliases, keeping the address and MAC the inspection reports.
TEST_CASE("a running container reconnected with aliases keeps its address and MAC, and answers them",
          "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  NetworkCreate net;
  net.name = cleanup.Network(test::UniqueName("net"));
  REQUIRE(client.CreateNetwork(net).has_value());
  auto server = Sleeper(env, cleanup.Container(test::UniqueName("server")));
  server.networks = {{net.name, {}}};
  auto server_id = client.CreateContainer(server);
  REQUIRE(server_id.has_value());
  REQUIRE(client.StartContainer(*server_id).has_value());
  auto before = client.InspectContainer(*server_id);
  REQUIRE(before.has_value());
  REQUIRE(before->networks.contains(net.name));
  const NetworkEndpoint was = before->networks.at(net.name);
  CHECK_FALSE(was.ip.empty());
  CHECK(was.mac.size() == 17);

  REQUIRE(client.DisconnectNetwork(net.name, *server_id).has_value());
  auto connected = client.ConnectNetwork(net.name, {*server_id, {"late-alias"}, was.ip, was.mac});
  INFO((connected ? "" : Describe(connected.error())));
  REQUIRE(connected.has_value());
  auto after = client.InspectContainer(*server_id);
  REQUIRE(after.has_value());
  REQUIRE(after->networks.contains(net.name));
  CHECK(after->networks.at(net.name).ip == was.ip);
  CHECK(after->networks.at(net.name).mac == was.mac);
  // Already on it: Podman refuses, which is why SetAliases disconnects first.
  CHECK_FALSE(client.ConnectNetwork(net.name, {*server_id, {"other"}, "", ""}).has_value());

  auto probe = Sleeper(env, cleanup.Container(test::UniqueName("probe")));
  probe.command = {"sh", "-c", "nslookup late-alias"};
  probe.networks = {{net.name, {}}};
  auto probe_id = client.CreateContainer(probe);
  REQUIRE(probe_id.has_value());
  REQUIRE(client.StartContainer(*probe_id).has_value());
  auto code = client.WaitContainer(*probe_id, "stopped");
  REQUIRE(code.has_value());
  auto logs = client.Logs(*probe_id, 0);
  REQUIRE(logs.has_value());
  INFO(logs->combined);
  CHECK(*code == 0);
  CHECK(logs->out.find("Address: " + was.ip) != std::string::npos);
}

TEST_CASE("an internal network with options and a driver", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  NetworkCreate net;
  net.name = cleanup.Network(test::UniqueName("internal"));
  net.internal = true;
  net.driver = "bridge";
  net.options = {{"mtu", "1400"}};
  auto created = client.CreateNetwork(net);
  INFO((created ? "" : Describe(created.error())));
  REQUIRE(created.has_value());
  auto info = client.InspectNetwork(net.name);
  REQUIRE(info.has_value());
  CHECK(info->internal);
  CHECK(info->options.at("mtu") == "1400");
}

TEST_CASE("volume create twice, exists, list by label, remove", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  VolumeCreate vol;
  vol.name = cleanup.Volume(test::UniqueName("vol"));
  vol.labels = {{"io.podcd.stack", vol.name}};
  vol.options = {{"o", "nodev"}};
  auto created = client.CreateVolume(vol);
  INFO((created ? "" : Describe(created.error())));
  REQUIRE(created.has_value());
  CHECK(created->name == vol.name);
  CHECK(created->driver == "local");
  CHECK(created->labels.at("io.podcd.stack") == vol.name);

  auto again = client.CreateVolume(vol);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
  CHECK(again.error().message.find("already exists") != std::string::npos);

  auto exists = client.VolumeExists(vol.name);
  REQUIRE(exists.has_value());
  CHECK(*exists);
  auto list = client.ListVolumes({"io.podcd.stack=" + vol.name});
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 1);
  CHECK(list->front().name == vol.name);
  CHECK(list->front().options.at("o") == "nodev");

  REQUIRE(client.RemoveVolume(vol.name).has_value());
  auto after = client.VolumeExists(vol.name);
  REQUIRE(after.has_value());
  CHECK_FALSE(*after);
}

TEST_CASE("container create, start, inspect, stop, rename, remove", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const std::string name = cleanup.Container(test::UniqueName("life"));
  auto spec = Sleeper(env, name);
  spec.command = {"sh", "-c", "echo ready; exec sleep 600"};
  spec.labels = {{"io.podcd.stack", "life"}, {"io.podcd.service", "web"}};
  auto id = client.CreateContainer(spec);
  INFO((id ? "" : Describe(id.error())));
  REQUIRE(id.has_value());

  auto created = client.InspectContainer(*id);
  REQUIRE(created.has_value());
  CHECK(created->state.status == "created");
  CHECK_FALSE(created->state.running);

  auto dup = client.CreateContainer(spec);
  REQUIRE_FALSE(dup.has_value());
  INFO(Describe(dup.error()));
  CHECK(dup.error().code == ErrorCode::kAlreadyExists);

  REQUIRE(client.StartContainer(*id).has_value());
  REQUIRE(client.StartContainer(*id).has_value());  // already running: still fine
  auto running = client.InspectContainer(name);
  REQUIRE(running.has_value());
  CHECK(running->id == *id);
  CHECK(running->name == name);
  CHECK(running->state.status == "running");
  CHECK(running->state.running);
  CHECK(running->state.pid > 0);
  CHECK(running->state.started_at.starts_with("20"));
  CHECK(running->restart_count == 0);
  CHECK(running->labels.at("io.podcd.service") == "web");
  auto image = client.InspectImage(env.image);
  REQUIRE(image.has_value());
  CHECK(running->image_id == image->id);

  // A SIGTERM sent before the container's PID 1 (catatonit) has exec'd is lost, and the stop
  // then ends in SIGKILL (137): stop only once the command runs.
  REQUIRE(WaitForLog(client, *id, "ready"));
  REQUIRE(client.StopContainer(*id, 5s).has_value());
  REQUIRE(client.StopContainer(*id, 5s).has_value());  // already stopped: still fine
  auto stopped = client.InspectContainer(*id);
  REQUIRE(stopped.has_value());
  CHECK(stopped->state.status == "exited");
  CHECK_FALSE(stopped->state.running);
  // catatonit forwards TERM; sleep dies of it: 128 + 15.
  CHECK(stopped->state.exit_code == 143);

  const std::string new_name = cleanup.Container(name + "-renamed");
  REQUIRE(client.RenameContainer(*id, new_name).has_value());
  auto renamed = client.InspectContainer(new_name);
  REQUIRE(renamed.has_value());
  CHECK(renamed->id == *id);
  auto old = client.InspectContainer(name);
  REQUIRE_FALSE(old.has_value());
  CHECK(old.error().code == ErrorCode::kNotFound);

  REQUIRE(client.RemoveContainer(*id, false).has_value());
  auto gone = client.InspectContainer(*id);
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == ErrorCode::kNotFound);
  CHECK(gone.error().message.find("no such container") != std::string::npos);
  CHECK(gone.error().context.find("inspect") != std::string::npos);
}

TEST_CASE("create errors carry Podman's cause", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto spec = Sleeper(env, cleanup.Container(test::UniqueName("noimage")));
  spec.image = "localhost/does-not-exist:1";
  auto no_image = client.CreateContainer(spec);
  REQUIRE_FALSE(no_image.has_value());
  INFO(Describe(no_image.error()));
  CHECK(no_image.error().message.find("image not known") != std::string::npos);
  CHECK(no_image.error().code == ErrorCode::kNotFound);

  spec = Sleeper(env, cleanup.Container(test::UniqueName("nonet")));
  spec.networks = {{"podcdtest-no-such-network", {}}};
  auto no_net = client.CreateContainer(spec);
  REQUIRE_FALSE(no_net.has_value());
  INFO(Describe(no_net.error()));
  CHECK(no_net.error().message.find("network not found") != std::string::npos);
}

TEST_CASE("kill and wait report the exit code", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto spec = Sleeper(env, cleanup.Container(test::UniqueName("kill")));
  auto id = client.CreateContainer(spec);
  REQUIRE(id.has_value());
  REQUIRE(client.StartContainer(*id).has_value());
  REQUIRE(client.KillContainer(*id, "SIGKILL").has_value());
  auto code = client.WaitContainer(*id, "stopped");
  REQUIRE(code.has_value());
  CHECK(*code == 137);

  auto exit3 = Sleeper(env, cleanup.Container(test::UniqueName("exit3")));
  exit3.command = {"sh", "-c", "exit 3"};
  auto id3 = client.CreateContainer(exit3);
  REQUIRE(id3.has_value());
  REQUIRE(client.StartContainer(*id3).has_value());
  auto code3 = client.WaitContainer(*id3, "stopped");
  REQUIRE(code3.has_value());
  CHECK(*code3 == 3);
  auto info = client.InspectContainer(*id3);
  REQUIRE(info.has_value());
  CHECK(info->state.exit_code == 3);
}

TEST_CASE("list containers by label", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const std::string stack = test::UniqueName("stack");
  std::vector<std::string> ids;
  for (const char* service : {"a", "b", "c"}) {
    auto spec = Sleeper(env, cleanup.Container(test::UniqueName(service)));
    spec.labels = {{"io.podcd.stack", stack}, {"io.podcd.service", service}};
    auto id = client.CreateContainer(spec);
    REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  auto other = Sleeper(env, cleanup.Container(test::UniqueName("other")));
  other.labels = {{"io.podcd.stack", stack + "-other"}, {"io.podcd.service", "a"}};
  REQUIRE(client.CreateContainer(other).has_value());
  REQUIRE(client.StartContainer(ids[0]).has_value());

  auto all = client.ListContainers({"io.podcd.stack=" + stack});
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  std::vector<std::string> got;
  for (const auto& c : *all) {
    got.push_back(c.id);
    CHECK(c.labels.at("io.podcd.stack") == stack);
    CHECK(c.image == env.image);
    CHECK_FALSE(c.image_id.empty());
    CHECK(c.state == (c.id == ids[0] ? "running" : "created"));
    CHECK(c.name.starts_with("podcdtest-"));
  }
  std::sort(got.begin(), got.end());
  auto want = ids;
  std::sort(want.begin(), want.end());
  CHECK(got == want);

  auto one = client.ListContainers({"io.podcd.stack=" + stack, "io.podcd.service=b"});
  REQUIRE(one.has_value());
  REQUIRE(one->size() == 1);
  CHECK(one->front().id == ids[1]);

  auto none = client.ListContainers({"io.podcd.stack=" + stack + "-none"});
  REQUIRE(none.has_value());
  CHECK(none->empty());
}

TEST_CASE("healthcheck run: healthy and unhealthy", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto good = Sleeper(env, cleanup.Container(test::UniqueName("healthy")));
  good.healthcheck = HealthConfig{{"CMD-SHELL", "echo fine"}, 1s, 5s, 0s, 2};
  auto good_id = client.CreateContainer(good);
  REQUIRE(good_id.has_value());
  REQUIRE(client.StartContainer(*good_id).has_value());
  auto healthy = client.RunHealthcheck(*good_id);
  INFO((healthy ? "" : Describe(healthy.error())));
  REQUIRE(healthy.has_value());
  CHECK(healthy->status == "healthy");
  CHECK(healthy->exit_code == 0);
  CHECK(healthy->output.find("fine") != std::string::npos);
  auto info = client.InspectContainer(*good_id);
  REQUIRE(info.has_value());
  CHECK(info->state.health_status == "healthy");

  auto bad = Sleeper(env, cleanup.Container(test::UniqueName("unhealthy")));
  bad.healthcheck = HealthConfig{{"CMD", "sh", "-c", "echo broken; exit 1"}, 1s, 5s, 0s, 1};
  auto bad_id = client.CreateContainer(bad);
  REQUIRE(bad_id.has_value());
  REQUIRE(client.StartContainer(*bad_id).has_value());
  auto unhealthy = client.RunHealthcheck(*bad_id);
  INFO((unhealthy ? "" : Describe(unhealthy.error())));
  REQUIRE(unhealthy.has_value());
  CHECK(unhealthy->status == "unhealthy");
  CHECK(unhealthy->exit_code == 1);
  CHECK(unhealthy->failing_streak >= 1);
  CHECK(unhealthy->output.find("broken") != std::string::npos);

  auto plain = Sleeper(env, cleanup.Container(test::UniqueName("nocheck")));
  auto plain_id = client.CreateContainer(plain);
  REQUIRE(plain_id.has_value());
  REQUIRE(client.StartContainer(*plain_id).has_value());
  auto no_check = client.RunHealthcheck(*plain_id);
  REQUIRE_FALSE(no_check.has_value());
  INFO(Describe(no_check.error()));
  CHECK(no_check.error().message.find("healthcheck") != std::string::npos);
}

TEST_CASE("logs are de-multiplexed into stdout and stderr", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto spec = Sleeper(env, cleanup.Container(test::UniqueName("logs")));
  spec.command = {"sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"};
  auto id = client.CreateContainer(spec);
  REQUIRE(id.has_value());
  REQUIRE(client.StartContainer(*id).has_value());
  REQUIRE(client.WaitContainer(*id, "stopped").has_value());
  auto logs = client.Logs(*id, 0);
  REQUIRE(logs.has_value());
  CHECK(logs->out == "out1\nout2\n");
  CHECK(logs->err == "err1\nerr2\n");
  CHECK(logs->combined.size() == logs->out.size() + logs->err.size());
  auto last = client.Logs(*id, 1);
  REQUIRE(last.has_value());
  // tail counts the lines of both streams together.
  CHECK(last->combined == "err2\n");
  CHECK(last->err == "err2\n");
  CHECK(last->out.empty());
}

TEST_CASE("a host port conflict reports Podman's reason at start", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const auto port = test::FreeLoopbackPorts();
  REQUIRE(port != 0);
  auto first = Sleeper(env, cleanup.Container(test::UniqueName("port1")));
  first.command = {"httpd", "-f", "-p", "80", "-h", "/www"};
  first.ports = {{"127.0.0.1", port, 80, 1, "tcp"}};
  auto first_id = client.CreateContainer(first);
  REQUIRE(first_id.has_value());
  auto started = client.StartContainer(*first_id);
  INFO((started ? "" : Describe(started.error())));
  REQUIRE(started.has_value());

  auto second = first;
  second.name = cleanup.Container(test::UniqueName("port2"));
  auto second_id = client.CreateContainer(second);
  REQUIRE(second_id.has_value());  // the conflict only shows at start
  auto conflict = client.StartContainer(*second_id);
  REQUIRE_FALSE(conflict.has_value());
  INFO(Describe(conflict.error()));
  CHECK(conflict.error().message.find("address already in use") != std::string::npos);
  CHECK(conflict.error().context.find(*second_id) != std::string::npos);
}

TEST_CASE("a call that outlasts its timeout fails with kTimeout, and the client recovers", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  auto spec = Sleeper(env, cleanup.Container(test::UniqueName("slow")));
  auto id = client.CreateContainer(spec);
  REQUIRE(id.has_value());
  REQUIRE(client.StartContainer(*id).has_value());

  ClientOptions options = test::TestClientOptions(env);
  options.long_timeout = 300ms;
  Client impatient(options);
  auto waited = impatient.WaitContainer(*id, "stopped");
  REQUIRE_FALSE(waited.has_value());
  CHECK(waited.error().code == ErrorCode::kTimeout);
  CHECK(waited.error().context.find("wait") != std::string::npos);
  // The same client still works after the timed-out connection is dropped.
  CHECK(impatient.Ping().has_value());
  CHECK(impatient.connections_opened() == 2);
}

TEST_CASE("events since a time, filtered by label", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  const auto now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t since = now() - 1;
  const std::string marker = test::UniqueName("events");
  auto spec = Sleeper(env, cleanup.Container(marker));
  spec.command = {"true"};
  spec.labels = {{"io.podcd.test", marker}};
  auto id = client.CreateContainer(spec);
  REQUIRE(id.has_value());
  REQUIRE(client.StartContainer(*id).has_value());
  REQUIRE(client.WaitContainer(*id, "stopped").has_value());

  auto events = client.Events(since, {"io.podcd.test=" + marker});
  REQUIRE(events.has_value());
  std::vector<std::string> actions;
  for (const auto& e : *events) {
    CHECK(e.id == *id);
    CHECK(e.type == "container");
    CHECK(e.name == marker);
    CHECK(e.attributes.at("io.podcd.test") == marker);
    actions.push_back(e.action);
  }
  INFO(actions.size());
  CHECK(std::find(actions.begin(), actions.end(), "create") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "start") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "died") != actions.end());
}

TEST_CASE("InspectRunConfig reads back env, user, binds (ro kept), volumes and privileges", "[podman]") {
  PODCD_PODMAN_TEST_SETUP();
  test::TempDir dir;
  const std::string name = cleanup.Container(test::UniqueName("runcfg"));
  const std::string volume = cleanup.Volume(test::UniqueName("runcfg-vol"));
  auto spec = Sleeper(env, name);
  spec.env = {{"PODCD_STATE_DIR", "/var/lib/podcd"}, {"WITH_EQUALS", "a=b"}};
  spec.user = "10001:0";
  spec.binds = {{dir.path().string(), "/srv/env", {"ro"}}};
  spec.volumes = {{volume, "/var/lib/podcd", {}}};
  spec.cap_add = {"NET_ADMIN"};
  auto id = client.CreateContainer(spec);
  INFO((id ? "" : Describe(id.error())));
  REQUIRE(id.has_value());
  auto rc = client.InspectRunConfig(*id);
  INFO((rc ? "" : Describe(rc.error())));
  REQUIRE(rc.has_value());
  CHECK(rc->name == name);
  CHECK_FALSE(rc->image.empty());
  CHECK(rc->env.at("PODCD_STATE_DIR") == "/var/lib/podcd");
  CHECK(rc->env.at("WITH_EQUALS") == "a=b");
  CHECK(rc->user == "10001:0");
  REQUIRE(rc->binds.size() == 1);
  CHECK(rc->binds[0].source == dir.path().string());
  CHECK(rc->binds[0].destination == "/srv/env");
  CHECK(rc->binds[0].options == std::vector<std::string>{"ro"});
  REQUIRE(rc->volumes.size() == 1);
  CHECK(rc->volumes[0].name == volume);
  CHECK(rc->volumes[0].destination == "/var/lib/podcd");
  CHECK(rc->volumes[0].options.empty());
  CHECK(std::find(rc->cap_add.begin(), rc->cap_add.end(), "CAP_NET_ADMIN") != rc->cap_add.end());
  CHECK_FALSE(rc->privileged);
}
