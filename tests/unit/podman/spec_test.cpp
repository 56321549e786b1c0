// The SpecGenerator JSON's shape; whether Podman honours each field is checked against the
// real service in tests/integration/podman/podman_spec_test.cpp.
#include "podman/spec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <sys/resource.h>

#include <catch2/catch.hpp>

using namespace podcd::podman;
using namespace std::chrono_literals;

namespace {

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

const rapidjson::Value* At(const rapidjson::Document& doc, const char* pointer) {
  return rapidjson::Pointer(pointer).Get(doc);
}

}  // namespace

TEST_CASE("a minimal spec names the image and the bridge netns only", "[podman][spec]") {
  ContainerSpec spec;
  spec.image = "localhost/bb:1";
  auto doc = Parse(ToSpecGeneratorJson(spec));
  CHECK(std::string(doc["image"].GetString()) == "localhost/bb:1");
  CHECK(std::string(At(doc, "/netns/nsmode")->GetString()) == "bridge");
  CHECK(doc.MemberCount() == 2);
}

TEST_CASE("spec keys follow libpod's SpecGenerator", "[podman][spec]") {
  ContainerSpec spec;
  spec.name = "web";
  spec.image = "img";
  spec.networks = {{"front", {"web", "www"}}};
  spec.volumes = {{"data", "/data", {"ro"}}};
  spec.ports = {{"", 8080, 80, 0, ""}};
  spec.ulimits = {{"RLIMIT_NOFILE", 1, 2}};
  spec.healthcheck = HealthConfig{{"CMD", "true"}, 0s, 0s, 0s, 0};
  spec.network_mode = "container:abc";
  spec.resources.memory_bytes = 10;
  spec.resources.pids_limit = 5;
  auto doc = Parse(ToSpecGeneratorJson(spec));
  // Go fields without json tags: the keys are the capitalised field names.
  CHECK(At(doc, "/Networks/front/aliases/1")->GetString() == std::string("www"));
  CHECK(At(doc, "/volumes/0/Name")->GetString() == std::string("data"));
  CHECK(At(doc, "/volumes/0/Dest")->GetString() == std::string("/data"));
  CHECK(At(doc, "/portmappings/0/range")->GetUint() == 1u);
  CHECK(At(doc, "/portmappings/0/protocol")->GetString() == std::string("tcp"));
  CHECK(At(doc, "/portmappings/0/host_ip") == nullptr);
  // Podman adds the RLIMIT_ prefix itself.
  CHECK(At(doc, "/r_limits/0/type")->GetString() == std::string("nofile"));
  // Zero durations get the CLI's defaults: a zero timeout fails every check at once.
  CHECK(At(doc, "/healthconfig/Timeout")->GetInt64() == 30'000'000'000);
  CHECK(At(doc, "/healthconfig/Interval")->GetInt64() == 30'000'000'000);
  CHECK(At(doc, "/healthconfig/Retries")->GetInt() == 3);
  CHECK(At(doc, "/netns/nsmode")->GetString() == std::string("container"));
  CHECK(At(doc, "/netns/value")->GetString() == std::string("abc"));
  CHECK(At(doc, "/resource_limits/memory/limit")->GetInt64() == 10);
  CHECK(At(doc, "/resource_limits/pids/limit")->GetInt64() == 5);
  CHECK(At(doc, "/resource_limits/cpu") == nullptr);
}

TEST_CASE("strings are escaped", "[podman][spec]") {
  ContainerSpec spec;
  spec.image = "img";
  spec.env = {{"QUOTE", "a\"b\\c\n"}};
  auto doc = Parse(ToSpecGeneratorJson(spec));
  CHECK(At(doc, "/env/QUOTE")->GetString() == std::string("a\"b\\c\n"));
}

namespace {

// Every field of ContainerSpec set to something other than its default, so that every
// section of the SpecGenerator JSON is written. nofile and nproc are both given: the JSON
// then does not depend on this process's own limits.
ContainerSpec RichSpec() {
  ContainerSpec spec;
  spec.name = "web_1";
  spec.image = "localhost/app:2";
  spec.command = {"serve", "--port=80"};
  spec.entrypoint = {"/bin/tini", "--"};
  spec.env = {{"A", "1"}, {"QUOTE", "a\"b"}};
  spec.labels = {{"podcd.stack", "shop"}, {"podcd.service", "web"}};
  spec.ports = {{"127.0.0.1", 8080, 80, 2, "udp"}, {"", 0, 443, 0, ""}};
  spec.binds = {{"/srv/conf", "/etc/app", {"ro", "z"}}};
  spec.volumes = {{"data", "/data", {"nocopy"}}, {"cache", "/cache", {}}};
  spec.tmpfs = {{"/tmp", {"size=64m", "mode=1777"}}};
  spec.network_mode = "ns:/run/netns/x";
  spec.networks = {{"front", {"web", "www"}}, {"back", {}}};
  spec.pid_mode = "host";
  spec.ipc_mode = "container:abc";
  spec.userns_mode = "keep-id:uid=1000";
  spec.devices = {"/dev/fuse", "/dev/null:/dev/mynull:rw"};
  spec.hostname = "web";
  spec.user = "1000:1000";
  spec.groups = {"wheel", "audio"};
  spec.work_dir = "/app";
  spec.restart_policy = "on-failure";
  spec.restart_retries = 4;
  spec.healthcheck = HealthConfig{{"CMD-SHELL", "curl -f localhost"}, 5s, 2s, 10s, 7};
  spec.cap_add = {"NET_ADMIN"};
  spec.cap_drop = {"MKNOD", "CHOWN"};
  spec.privileged = true;
  spec.read_only = true;
  spec.init = true;
  spec.stop_signal = 2;
  spec.stop_timeout = 25;
  spec.extra_hosts = {"db:10.0.0.2"};
  spec.log = LogConfig{"k8s-file", "/var/log/web.log", 1048576, {{"max-file", "3"}}};
  spec.dns_servers = {"10.0.0.53"};
  spec.dns_search = {"example.test"};
  spec.dns_options = {"ndots:2"};
  spec.sysctls = {{"net.core.somaxconn", "1024"}};
  spec.ulimits = {{"RLIMIT_NOFILE", 1024, 2048}, {"nproc", 100, 200}, {"core", 0, 0}};
  spec.resources.memory_bytes = 536870912;
  spec.resources.memory_reservation_bytes = 268435456;
  spec.resources.memory_swap_bytes = 1073741824;
  spec.resources.cpu_quota = 50000;
  spec.resources.cpu_period = 100000;
  spec.resources.cpu_shares = 512;
  spec.resources.pids_limit = 64;
  spec.shm_size_bytes = 67108864;
  spec.selinux_opts = {"type:spc_t"};
  spec.seccomp_profile = "unconfined";
  spec.apparmor_profile = "podcd-default";
  spec.no_new_privileges = true;
  spec.stdin_open = true;
  spec.terminal = true;
  return spec;
}

}  // namespace

// Pins the whole JSON, byte for byte: its key order and every default filled in. Any change
// to the SpecGenerator writer shows here first.
TEST_CASE("a spec with every field set gives this exact JSON", "[podman][spec]") {
  const std::string golden =
      R"json({"name":"web_1","image":"localhost/app:2","command":["serve","--port=80"],)json"
      R"json("entrypoint":["/bin/tini","--"],"env":{"A":"1","QUOTE":"a\"b"},"labels":{"podcd.service":"web",)json"
      R"json("podcd.stack":"shop"},"portmappings":[{"host_ip":"127.0.0.1","container_port":80,)json"
      R"json("host_port":8080,"range":2,"protocol":"udp"},{"container_port":443,"host_port":0,"range":1,)json"
      R"json("protocol":"tcp"}],"mounts":[{"destination":"/etc/app","type":"bind","source":"/srv/conf",)json"
      R"json("options":["ro","z"]},{"destination":"/tmp","type":"tmpfs","source":"tmpfs",)json"
      R"json("options":["size=64m","mode=1777"]}],"volumes":[{"Name":"data","Dest":"/data",)json"
      R"json("Options":["nocopy"]},{"Name":"cache","Dest":"/cache","Options":[]}],"netns":{"nsmode":"path",)json"
      R"json("value":"/run/netns/x"},"pidns":{"nsmode":"host"},"ipcns":{"nsmode":"container","value":"abc"},)json"
      R"json("userns":{"nsmode":"keep-id","value":"uid=1000"},"devices":[{"path":"/dev/fuse"},)json"
      R"json({"path":"/dev/null:/dev/mynull:rw"}],"Networks":{"front":{"aliases":["web","www"]},"back":{}},)json"
      R"json("hostname":"web","user":"1000:1000","groups":["wheel","audio"],"work_dir":"/app",)json"
      R"json("restart_policy":"on-failure","restart_tries":4,"healthconfig":{"Test":["CMD-SHELL",)json"
      R"json("curl -f localhost"],"Interval":5000000000,"Timeout":2000000000,"StartPeriod":10000000000,)json"
      R"json("Retries":7},"cap_add":["NET_ADMIN"],"cap_drop":["MKNOD","CHOWN"],"privileged":true,)json"
      R"json("read_only_filesystem":true,"init":true,"stop_signal":2,"stop_timeout":25,)json"
      R"json("hostadd":["db:10.0.0.2"],"log_configuration":{"driver":"k8s-file","path":"/var/log/web.log",)json"
      R"json("size":1048576,"options":{"max-file":"3"}},"dns_server":["10.0.0.53"],)json"
      R"json("dns_search":["example.test"],"dns_option":["ndots:2"],"sysctl":{"net.core.somaxconn":"1024"},)json"
      R"json("r_limits":[{"type":"nofile","hard":2048,"soft":1024},{"type":"nproc","hard":200,"soft":100},)json"
      R"json({"type":"core","hard":0,"soft":0}],"resource_limits":{"memory":{"limit":536870912,)json"
      R"json("reservation":268435456,"swap":1073741824},"cpu":{"shares":512,"quota":50000,"period":100000},)json"
      R"json("pids":{"limit":64}},"shm_size":67108864,"selinux_opts":["type:spc_t"],)json"
      R"json("seccomp_profile_path":"unconfined","apparmor_profile":"podcd-default","no_new_privileges":true,)json"
      R"json("stdin":true,"terminal":true})json";
  CHECK(ToSpecGeneratorJson(RichSpec()) == golden);
}

TEST_CASE("missing nofile and nproc limits are sent as this process's own", "[podman][spec]") {
  ContainerSpec spec;
  spec.image = "img";
  spec.ulimits = {{"core", 1, 2}};
  auto doc = Parse(ToSpecGeneratorJson(spec));
  const auto* limits = At(doc, "/r_limits");
  REQUIRE(limits != nullptr);
  REQUIRE(limits->Size() == 3);
  CHECK(At(doc, "/r_limits/0/type")->GetString() == std::string("core"));
  CHECK(At(doc, "/r_limits/0/soft")->GetUint64() == 1);
  CHECK(At(doc, "/r_limits/0/hard")->GetUint64() == 2);
  rlimit nofile{};
  rlimit nproc{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  REQUIRE(getrlimit(RLIMIT_NPROC, &nproc) == 0);
  CHECK(At(doc, "/r_limits/1/type")->GetString() == std::string("nofile"));
  CHECK(At(doc, "/r_limits/1/soft")->GetUint64() == nofile.rlim_cur);
  CHECK(At(doc, "/r_limits/1/hard")->GetUint64() == nofile.rlim_max);
  CHECK(At(doc, "/r_limits/2/type")->GetString() == std::string("nproc"));
  CHECK(At(doc, "/r_limits/2/soft")->GetUint64() == nproc.rlim_cur);
  CHECK(At(doc, "/r_limits/2/hard")->GetUint64() == nproc.rlim_max);
}

TEST_CASE("read_write_tmpfs is sent when set, as libpod's read_write_tmpfs", "[podman][spec]") {
  ContainerSpec spec;
  spec.image = "img";
  spec.read_only = true;
  CHECK(At(Parse(ToSpecGeneratorJson(spec)), "/read_write_tmpfs") == nullptr);
  spec.read_write_tmpfs = true;
  auto doc = Parse(ToSpecGeneratorJson(spec));
  REQUIRE(At(doc, "/read_write_tmpfs") != nullptr);
  CHECK(At(doc, "/read_write_tmpfs")->GetBool());
  CHECK(At(doc, "/read_only_filesystem")->GetBool());
}
