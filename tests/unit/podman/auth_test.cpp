#include "podman/auth.hpp"
#include "util/base64.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::podman;

TEST_CASE("ImageRepository applies Docker's defaults", "[podman][auth]") {
  CHECK(ImageRepository("busybox") == "docker.io/library/busybox");
  CHECK(ImageRepository("busybox:1.36") == "docker.io/library/busybox");
  CHECK(ImageRepository("me/app:2") == "docker.io/me/app");
  CHECK(ImageRepository("127.0.0.1:5000/bb:1") == "127.0.0.1:5000/bb");
  CHECK(ImageRepository("127.0.0.1:5000/bb") == "127.0.0.1:5000/bb");
  CHECK(ImageRepository("ghcr.io/org/team/app@sha256:abcd") == "ghcr.io/org/team/app");
  CHECK(ImageRepository("localhost/bb:1") == "localhost/bb");
}

TEST_CASE("FindCredentials picks the most specific entry", "[podman][auth]") {
  const std::string file = R"({"auths":{
    "registry.example:5000": {"auth": "aG9zdDpob3N0cGFzcw=="},
    "registry.example:5000/team": {"auth": "dGVhbTp0ZWFtcGFzcw=="},
    "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
    "helper.example": {}
  }})";
  auto team = FindCredentials(file, "registry.example:5000/team/app:1");
  REQUIRE(team.has_value());
  REQUIRE(team->has_value());
  CHECK((*team)->username == "team");
  CHECK((*team)->password == "teampass");

  auto host = FindCredentials(file, "registry.example:5000/other/app");
  REQUIRE(host.has_value());
  REQUIRE(host->has_value());
  CHECK((*host)->username == "host");

  auto hub = FindCredentials(file, "nginx:latest");
  REQUIRE(hub.has_value());
  REQUIRE(hub->has_value());
  CHECK((*hub)->username == "hub");

  auto none = FindCredentials(file, "quay.io/x/y");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());

  auto helper_only = FindCredentials(file, "helper.example/app");
  REQUIRE(helper_only.has_value());
  CHECK_FALSE(helper_only->has_value());

  auto empty = FindCredentials(R"({})", "quay.io/x/y");
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->has_value());
}

TEST_CASE("FindCredentials refuses broken files without echoing secrets", "[podman][auth]") {
  auto not_json = FindCredentials("{nope", "a.example/b");
  REQUIRE_FALSE(not_json.has_value());
  CHECK(not_json.error().code == ErrorCode::kInvalidArgument);

  auto no_colon = FindCredentials(R"({"auths":{"a.example":{"auth":"c2VjcmV0"}}})", "a.example/b");
  REQUIRE_FALSE(no_colon.has_value());
  CHECK(no_colon.error().message.find("a.example") != std::string::npos);
  CHECK(no_colon.error().message.find("secret") == std::string::npos);
  CHECK(no_colon.error().message.find("c2VjcmV0") == std::string::npos);
}

TEST_CASE("RegistryAuthHeader is base64url JSON with username and password", "[podman][auth]") {
  RegistryCredentials c{"us?er", "p>>?ss", ""};
  const std::string header = RegistryAuthHeader(c);
  CHECK(header.find_first_of("+/") == std::string::npos);
  auto decoded = Base64Decode(header);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == R"({"username":"us?er","password":"p>>?ss"})");
}

TEST_CASE("RegistryConfigHeader carries every usable entry of the file, for a build's base images",
          "[podman][auth]") {
  const std::string file = R"({"auths":{
      "https://index.docker.io/v1/":{"auth":")" +
                           Base64Encode("hub:pw1", false) + R"("},
      "127.0.0.1:5000":{"auth":")" +
                           Base64Encode("me:p>>?w", false) + R"("},
      "broken.example":{"auth":"c2VjcmV0"},
      "helper.example":{}}})";
  auto entries = ReadAuthEntries(file);
  REQUIRE(entries);
  REQUIRE(entries->size() == 3);  // the helper-only entry carries no credentials
  auto header = RegistryConfigHeader(*entries);
  REQUIRE(header);
  CHECK(header->find_first_of("+/") == std::string::npos);
  auto decoded = Base64Decode(*header);
  REQUIRE(decoded);
  CHECK(
      *decoded ==
      R"({"docker.io":{"username":"hub","password":"pw1"},"127.0.0.1:5000":{"username":"me","password":"p>>?w"}})");

  // A broken entry is left out of the build's header, and fails only a pull that needs it.
  auto pull_other = FindCredentials(file, "127.0.0.1:5000/bb:1");
  REQUIRE(pull_other);
  REQUIRE(*pull_other);
  CHECK((*pull_other)->username == "me");
  CHECK_FALSE(FindCredentials(file, "broken.example/x:1"));

  auto none = ReadAuthEntries(R"({"auths":{}})");
  REQUIRE(none);
  CHECK_FALSE(RegistryConfigHeader(*none));
  CHECK_FALSE(ReadAuthEntries("[1]"));
}
