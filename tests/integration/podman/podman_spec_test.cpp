// ContainerSpec -> SpecGenerator -> a real container: every field is checked in the
// container's inspect output, because Podman silently ignores fields it does not know.
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "podman/client.hpp"
#include "support/podman_env.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::podman;
using namespace std::chrono_literals;

namespace {

class Inspect {
 public:
  explicit Inspect(const std::string& json) : json_(json) { doc_.Parse(json.data(), json.size()); }
  bool ok() const { return !doc_.HasParseError() && doc_.IsObject(); }
  const rapidjson::Value* At(const char* pointer) const { return rapidjson::Pointer(pointer).Get(doc_); }
  std::string Str(const char* pointer) const {
    const auto* v = At(pointer);
    return v != nullptr && v->IsString() ? std::string(v->GetString()) : std::string("<missing>");
  }
  std::int64_t Int(const char* pointer) const {
    const auto* v = At(pointer);
    if (v == nullptr) return -999;
    if (v->IsInt64()) return v->GetInt64();
    if (v->IsUint64()) return static_cast<std::int64_t>(v->GetUint64());
    return -998;
  }
  bool Bool(const char* pointer) const {
    const auto* v = At(pointer);
    return v != nullptr && v->IsBool() && v->GetBool();
  }
  std::vector<std::string> Strings(const char* pointer) const {
    std::vector<std::string> out;
    const auto* v = At(pointer);
    if (v == nullptr || !v->IsArray()) return out;
    for (const auto& s : v->GetArray()) {
      if (s.IsString()) out.emplace_back(s.GetString());
    }
    return out;
  }
  bool Has(const char* pointer, const std::string& item) const {
    auto list = Strings(pointer);
    return std::find(list.begin(), list.end(), item) != list.end();
  }
  const rapidjson::Document& doc() const { return doc_; }
  const std::string& json() const { return json_; }

 private:
  std::string json_;
  rapidjson::Document doc_;
};

}  // namespace

// The container's output up to its "ready" line (it prints what inspect cannot show).
std::string LogsWhenReady(Client& client, const std::string& id) {
  std::string out;
  for (int i = 0; i < 100 && out.find("ready") == std::string::npos; ++i) {
    auto logs = client.Logs(id, 0);
    if (logs) out = logs->out;
    if (out.find("ready") == std::string::npos) std::this_thread::sleep_for(100ms);
  }
  INFO(out);
  return out;
}

TEST_CASE("a spec that sets every field round-trips through Podman", "[podman][spec]") {
  PODCD_PODMAN_TEST_SETUP();
  test::TempDir dir;
  dir.Write("bind/hello.txt", "hi\n");

  NetworkCreate net;
  net.name = cleanup.Network(test::UniqueName("specnet"));
  REQUIRE(client.CreateNetwork(net).has_value());
  VolumeCreate vol;
  vol.name = cleanup.Volume(test::UniqueName("specvol"));
  REQUIRE(client.CreateVolume(vol).has_value());

  const auto port = test::FreeLoopbackPorts(3);
  REQUIRE(port != 0);
  ContainerSpec spec;
  spec.name = cleanup.Container(test::UniqueName("full"));
  spec.image = env.image;
  spec.entrypoint = {"/bin/sh", "-c"};
  // What inspect does not show (sysctls, seccomp) is printed by the container itself.
  spec.command = {
      "echo sysctl=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); "
      "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; echo host=$(hostname); id; "
      "echo pwd=$(pwd); echo env=$PODCD_B; cat /data/bind/hello.txt; echo ready; exec sleep 600"};
  spec.env = {{"PODCD_A", "1"}, {"PODCD_B", "two words"}};
  spec.labels = {{"io.podcd.stack", "spec"}, {"io.podcd.fingerprint", "abc123"}};
  spec.ports = {{"127.0.0.1", port, 80, 1, "tcp"},
                {"127.0.0.1", static_cast<std::uint16_t>(port + 1), 90, 2, "udp"}};
  spec.binds = {{(dir / "bind").string(), "/data/bind", {"ro"}}};
  spec.volumes = {{vol.name, "/data/vol", {"ro"}}};
  spec.tmpfs = {{"/run/scratch", {"size=1m", "mode=1777"}}};
  spec.networks = {{net.name, {"svc", "svc-alt"}}};
  spec.hostname = "roundtrip-host";
  spec.user = "65534:65534";
  spec.groups = {"10"};
  spec.work_dir = "/tmp";
  spec.restart_policy = "on-failure";
  spec.restart_retries = 3;
  spec.healthcheck = HealthConfig{{"CMD-SHELL", "true"}, 7s, 3s, 2s, 4};
  spec.cap_add = {"NET_ADMIN"};
  spec.cap_drop = {"MKNOD"};
  spec.read_only = true;
  spec.init = true;
  spec.stop_signal = ParseSignal("SIGINT");
  spec.stop_timeout = 7;
  spec.extra_hosts = {"gateway.test:10.0.0.1"};
  spec.log = LogConfig{"k8s-file", (dir / "ctr.log").string(), 1000000, {}};
  spec.dns_servers = {"10.0.0.53"};
  spec.dns_search = {"example.test"};
  spec.dns_options = {"ndots:2"};
  spec.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "80"}};
  spec.ulimits = {{"nofile", 1024, 2048}, {"nproc", 512, 1024}};
  spec.resources.memory_bytes = 64ll << 20;
  spec.resources.memory_reservation_bytes = 32ll << 20;
  spec.resources.memory_swap_bytes = 128ll << 20;
  spec.resources.cpu_quota = 50000;
  spec.resources.cpu_period = 100000;
  spec.resources.cpu_shares = 512;
  spec.resources.pids_limit = 100;
  spec.shm_size_bytes = 16ll << 20;
  spec.seccomp_profile = "unconfined";
  spec.no_new_privileges = true;
  spec.stdin_open = true;
  spec.terminal = true;

  auto id = client.CreateContainer(spec);
  INFO((id ? "" : id.error().What()));
  REQUIRE(id.has_value());
  auto started = client.StartContainer(*id);
  INFO((started ? "" : started.error().What()));
  REQUIRE(started.has_value());

  auto json = client.InspectContainerJson(*id);
  REQUIRE(json.has_value());
  Inspect c(*json);
  REQUIRE(c.ok());
  INFO(c.json());

  CHECK(c.Str("/Name") == spec.name);
  CHECK(c.Str("/ImageName") == env.image);
  CHECK(c.Str("/State/Status") == "running");
  CHECK(c.Strings("/Config/Cmd") == spec.command);
  CHECK(c.Str("/Config/Annotations/org.opencontainers.image.stopSignal") == "2");
  CHECK(c.Str("/Config/Entrypoint") == "/bin/sh -c");
  CHECK(c.Has("/Config/Env", "PODCD_A=1"));
  CHECK(c.Has("/Config/Env", "PODCD_B=two words"));
  CHECK(c.Str("/Config/Labels/io.podcd.stack") == "spec");
  CHECK(c.Str("/Config/Labels/io.podcd.fingerprint") == "abc123");

  const std::string p0 = std::to_string(port);
  const std::string p1 = std::to_string(port + 1);
  const std::string p2 = std::to_string(port + 2);
  CHECK(c.Str("/HostConfig/PortBindings/80~1tcp/0/HostIp") == "127.0.0.1");
  CHECK(c.Str("/HostConfig/PortBindings/80~1tcp/0/HostPort") == p0);
  CHECK(c.Str("/HostConfig/PortBindings/90~1udp/0/HostPort") == p1);
  CHECK(c.Str("/HostConfig/PortBindings/91~1udp/0/HostPort") == p2);

  bool bind_ok = false;
  bool volume_ok = false;
  const auto* mounts = c.At("/Mounts");
  REQUIRE(mounts != nullptr);
  REQUIRE(mounts->IsArray());
  for (const auto& m : mounts->GetArray()) {
    const std::string type = m["Type"].GetString();
    const std::string dest = m["Destination"].GetString();
    if (type == "bind" && dest == "/data/bind") {
      bind_ok = std::string(m["Source"].GetString()) == (dir / "bind").string() && !m["RW"].GetBool();
    }
    if (type == "volume" && dest == "/data/vol") {
      volume_ok = std::string(m["Name"].GetString()) == vol.name && !m["RW"].GetBool();
    }
  }
  CHECK(bind_ok);
  CHECK(volume_ok);
  CHECK(c.Str("/HostConfig/Tmpfs/~1run~1scratch").find("size=1m") != std::string::npos);

  CHECK(c.Has(("/NetworkSettings/Networks/" + net.name + "/Aliases").c_str(), "svc"));
  CHECK(c.Has(("/NetworkSettings/Networks/" + net.name + "/Aliases").c_str(), "svc-alt"));
  CHECK(c.Str("/HostConfig/NetworkMode") == "bridge");
  CHECK(c.Str("/Config/Hostname") == "roundtrip-host");
  CHECK(c.Str("/Config/User") == "65534:65534");
  CHECK(c.Has("/HostConfig/GroupAdd", "10"));
  CHECK(c.Str("/Config/WorkingDir") == "/tmp");
  CHECK(c.Str("/HostConfig/RestartPolicy/Name") == "on-failure");
  CHECK(c.Int("/HostConfig/RestartPolicy/MaximumRetryCount") == 3);

  CHECK(c.Strings("/Config/Healthcheck/Test") == std::vector<std::string>{"CMD-SHELL", "true"});
  CHECK(c.Int("/Config/Healthcheck/Interval") == 7'000'000'000);
  CHECK(c.Int("/Config/Healthcheck/Timeout") == 3'000'000'000);
  CHECK(c.Int("/Config/Healthcheck/StartPeriod") == 2'000'000'000);
  CHECK(c.Int("/Config/Healthcheck/Retries") == 4);

  CHECK(c.Has("/HostConfig/CapAdd", "CAP_NET_ADMIN"));
  CHECK(c.Has("/HostConfig/CapDrop", "CAP_MKNOD"));
  CHECK(c.Has("/EffectiveCaps", "CAP_NET_ADMIN"));
  CHECK_FALSE(c.Has("/EffectiveCaps", "CAP_MKNOD"));
  CHECK_FALSE(c.Bool("/HostConfig/Privileged"));
  CHECK(c.Bool("/HostConfig/ReadonlyRootfs"));
  CHECK(c.Bool("/HostConfig/Init"));
  CHECK(c.Int("/Config/StopSignal") == 2);
  CHECK(c.Int("/Config/StopTimeout") == 7);
  CHECK(c.Has("/HostConfig/ExtraHosts", "gateway.test:10.0.0.1"));
  CHECK(c.Str("/HostConfig/LogConfig/Type") == "k8s-file");
  CHECK(c.Str("/HostConfig/LogConfig/Path") == (dir / "ctr.log").string());
  CHECK(c.Str("/HostConfig/LogConfig/Size") == "1MB");
  CHECK(c.Has("/HostConfig/Dns", "10.0.0.53"));
  CHECK(c.Has("/HostConfig/DnsSearch", "example.test"));
  CHECK(c.Has("/HostConfig/DnsOptions", "ndots:2"));

  bool ulimit_ok = false;
  if (const auto* ulimits = c.At("/HostConfig/Ulimits"); ulimits != nullptr && ulimits->IsArray()) {
    for (const auto& u : ulimits->GetArray()) {
      if (std::string(u["Name"].GetString()) == "RLIMIT_NOFILE") {
        ulimit_ok = u["Soft"].GetInt64() == 1024 && u["Hard"].GetInt64() == 2048;
      }
      if (std::string(u["Name"].GetString()) == "RLIMIT_NPROC") {
        CHECK(u["Soft"].GetInt64() == 512);
        CHECK(u["Hard"].GetInt64() == 1024);
      }
    }
  }
  CHECK(ulimit_ok);
  CHECK(c.Int("/HostConfig/Memory") == (64ll << 20));
  CHECK(c.Int("/HostConfig/MemoryReservation") == (32ll << 20));
  CHECK(c.Int("/HostConfig/MemorySwap") == (128ll << 20));
  CHECK(c.Int("/HostConfig/CpuQuota") == 50000);
  CHECK(c.Int("/HostConfig/CpuPeriod") == 100000);
  CHECK(c.Int("/HostConfig/CpuShares") == 512);
  CHECK(c.Int("/HostConfig/PidsLimit") == 100);
  CHECK(c.Int("/HostConfig/ShmSize") == (16ll << 20));
  CHECK(c.Has("/HostConfig/SecurityOpt", "no-new-privileges"));
  CHECK(c.Bool("/Config/OpenStdin"));
  CHECK(c.Bool("/Config/Tty"));

  // Inside the container (a TTY: the log is raw text, not frames).
  std::string out;
  for (int i = 0; i < 100 && out.find("ready") == std::string::npos; ++i) {
    auto logs = client.Logs(*id, 0);
    REQUIRE(logs.has_value());
    out = logs->out;
    if (out.find("ready") == std::string::npos) std::this_thread::sleep_for(100ms);
  }
  INFO(out);
  CHECK(out.find("sysctl=80") != std::string::npos);
  CHECK(out.find("Seccomp:\t0") != std::string::npos);
  CHECK(out.find("NoNewPrivs:\t1") != std::string::npos);
  CHECK(out.find("host=roundtrip-host") != std::string::npos);
  CHECK(out.find("uid=65534") != std::string::npos);
  CHECK(out.find("gid=65534") != std::string::npos);
  CHECK(out.find("groups=10") != std::string::npos);
  CHECK(out.find("pwd=/tmp") != std::string::npos);
  CHECK(out.find("env=two words") != std::string::npos);
  CHECK(out.find("hi") != std::string::npos);

  // The healthcheck as configured really runs (and its JSON was not silently dropped).
  auto health = client.RunHealthcheck(*id);
  REQUIRE(health.has_value());
  CHECK(health->status == "healthy");
}

TEST_CASE("privileged, log options and the network namespace modes round-trip", "[podman][spec]") {
  PODCD_PODMAN_TEST_SETUP();
  ContainerSpec base;
  base.image = env.image;
  base.command = {"sleep", "600"};
  base.init = true;

  auto privileged = base;
  privileged.name = cleanup.Container(test::UniqueName("priv"));
  privileged.privileged = true;
  auto priv_id = client.CreateContainer(privileged);
  REQUIRE(priv_id.has_value());
  REQUIRE(client.StartContainer(*priv_id).has_value());
  auto priv_json = client.InspectContainerJson(*priv_id);
  REQUIRE(priv_json.has_value());
  Inspect p(*priv_json);
  CHECK(p.Bool("/HostConfig/Privileged"));
  CHECK(p.Has("/EffectiveCaps", "CAP_SYS_ADMIN"));

  for (const std::string mode : {"none", "host"}) {
    auto spec = base;
    spec.name = cleanup.Container(test::UniqueName("net-" + mode));
    spec.network_mode = mode;
    auto id = client.CreateContainer(spec);
    INFO(mode);
    REQUIRE(id.has_value());
    auto json = client.InspectContainerJson(*id);
    REQUIRE(json.has_value());
    CHECK(Inspect(*json).Str("/HostConfig/NetworkMode") == mode);
  }

  // Log driver options reach Podman (checked on a created container: "tag" with k8s-file
  // would make the start fail in 4.3.1).
  auto tagged = base;
  tagged.name = cleanup.Container(test::UniqueName("log-tag"));
  tagged.log = LogConfig{"k8s-file", "", std::nullopt, {{"tag", "spec-tag"}}};
  auto tagged_id = client.CreateContainer(tagged);
  REQUIRE(tagged_id.has_value());
  auto tagged_json = client.InspectContainerJson(*tagged_id);
  REQUIRE(tagged_json.has_value());
  CHECK(Inspect(*tagged_json).Str("/HostConfig/LogConfig/Tag") == "spec-tag");

  auto joined = base;
  joined.name = cleanup.Container(test::UniqueName("net-container"));
  joined.network_mode = "container:" + *priv_id;
  auto joined_id = client.CreateContainer(joined);
  REQUIRE(joined_id.has_value());
  auto joined_json = client.InspectContainerJson(*joined_id);
  REQUIRE(joined_json.has_value());
  CHECK(Inspect(*joined_json).Str("/HostConfig/NetworkMode") == "container:" + *priv_id);
}

TEST_CASE("devices and the pid and ipc namespaces round-trip, and reach the container", "[podman][spec]") {
  PODCD_PODMAN_TEST_SETUP();
  ContainerSpec owner;
  owner.name = cleanup.Container(test::UniqueName("ns-owner"));
  owner.image = env.image;
  owner.entrypoint = {"/bin/sh", "-c"};
  owner.command = {
      "echo zero=$(head -c 4 /dev/podcd-zero | od -An -tx1 | tr -d ' '); echo ready; exec sleep 600"};
  owner.init = true;
  owner.ipc_mode = "shareable";
  owner.devices = {"/dev/zero:/dev/podcd-zero:r", "/dev/null"};
  auto owner_id = client.CreateContainer(owner);
  INFO((owner_id ? "" : owner_id.error().What()));
  REQUIRE(owner_id.has_value());
  REQUIRE(client.StartContainer(*owner_id).has_value());
  auto json = client.InspectContainerJson(*owner_id);
  REQUIRE(json.has_value());
  Inspect o(*json);
  CHECK(o.Str("/HostConfig/IpcMode") == "shareable");
  CHECK(o.Str("/HostConfig/Devices/0/PathOnHost") == "/dev/zero");
  CHECK(o.Str("/HostConfig/Devices/0/PathInContainer") == "/dev/podcd-zero");
  CHECK(o.Str("/HostConfig/Devices/1/PathOnHost") == "/dev/null");
  // Inspect does not show the permissions ("r"), and this machine's cgroup does not enforce
  // them (a write to the device succeeds here also with `podman run --device ...:r`).
  CHECK(LogsWhenReady(client, *owner_id).find("zero=00000000") != std::string::npos);

  ContainerSpec joiner = owner;
  joiner.name = cleanup.Container(test::UniqueName("ns-joiner"));
  joiner.devices.clear();
  joiner.init = false;  // Podman refuses an init that would not be PID 1
  // In the owner's pid namespace, the owner's init is visible (the joiner has none of its own).
  joiner.command = {"echo owner_init=$(ps | grep -c '[p]odman-init'); echo ready; exec sleep 600"};
  joiner.ipc_mode = "container:" + *owner_id;
  joiner.pid_mode = "container:" + *owner_id;
  auto joiner_id = client.CreateContainer(joiner);
  INFO((joiner_id ? "" : joiner_id.error().What()));
  REQUIRE(joiner_id.has_value());
  REQUIRE(client.StartContainer(*joiner_id).has_value());
  json = client.InspectContainerJson(*joiner_id);
  REQUIRE(json.has_value());
  Inspect j(*json);
  CHECK(j.Str("/HostConfig/IpcMode") == "container:" + *owner_id);
  CHECK(j.Str("/HostConfig/PidMode") == "container:" + *owner_id);
  CHECK(LogsWhenReady(client, *joiner_id).find("owner_init=1") != std::string::npos);

  ContainerSpec host_pid = owner;
  host_pid.name = cleanup.Container(test::UniqueName("ns-hostpid"));
  host_pid.devices.clear();
  host_pid.ipc_mode = "";
  host_pid.init = false;
  host_pid.command = {"sleep 600"};
  host_pid.pid_mode = "host";
  host_pid.userns_mode = "host";
  auto host_id = client.CreateContainer(host_pid);
  INFO((host_id ? "" : host_id.error().What()));
  REQUIRE(host_id.has_value());
  json = client.InspectContainerJson(*host_id);
  REQUIRE(json.has_value());
  Inspect h(*json);
  CHECK(h.Str("/HostConfig/PidMode") == "host");
}
