// The SpecGenerator JSON's shape; whether Podman honours each field is checked against the
// real service in tests/integration/podman/podman_spec_test.cpp.
#include "podman/spec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

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
