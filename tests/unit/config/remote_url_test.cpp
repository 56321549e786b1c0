// The remote URL's transport: http:// and git:// only with repo.allow_insecure, userinfo
// never shown (config/remote_url.hpp and the validation in config.cpp).
#include "config/remote_url.hpp"

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "util/log.hpp"

using namespace podcd;

namespace {

std::expected<config::Config, std::vector<Error>> LoadWith(const std::string& url, const char* allow) {
  config::LoadOptions o;
  o.default_file = "/nonexistent/podcd.yml";
  o.env = [url, allow](std::string_view n) -> std::optional<std::string> {
    if (n == "WEBHOOK_SECRET") return std::string("0123456789abcdef-secret");
    if (n == "PODCD_REPO_URL") return url;
    if (n == "PODCD_REPO_ALLOW_INSECURE" && allow != nullptr) return std::string(allow);
    return std::nullopt;
  };
  auto r = config::Load(o);
  log::ClearSecretsForTest();
  return r;
}

std::string AllErrors(const std::vector<Error>& errs) {
  std::string out;
  for (const auto& e : errs) out += e.What() + "\n";
  return out;
}

}  // namespace

TEST_CASE("RemoteScheme names the transport; local paths and scp-like SSH have none") {
  CHECK(config::RemoteScheme("https://github.com/ops/env.git") == "https");
  CHECK(config::RemoteScheme("HTTP://git.lan/env.git") == "http");
  CHECK(config::RemoteScheme("git://127.0.0.1:9418/env.git") == "git");
  CHECK(config::RemoteScheme("ssh://git@host:2222/env.git") == "ssh");
  CHECK(config::RemoteScheme("git+ssh://git@host/env.git") == "git+ssh");
  CHECK(config::RemoteScheme("file:///srv/env.git") == "file");
  CHECK(config::RemoteScheme("git@github.com:ops/env.git") == "");
  CHECK(config::RemoteScheme("/srv/env.git") == "");
  CHECK(config::RemoteScheme("./env.git") == "");
  CHECK(config::RemoteScheme("") == "");
  CHECK(config::RemoteScheme("1http://x") == "");
}

TEST_CASE("RedactUserinfo hides user and token, and only them") {
  CHECK(config::RedactUserinfo("http://user:tok3n@git.lan/env.git") == "http://***@git.lan/env.git");
  CHECK(config::RedactUserinfo("https://tok3n@github.com/o/e.git") == "https://***@github.com/o/e.git");
  CHECK(config::RedactUserinfo("git://a:b@c@host:9418/x") == "git://***@host:9418/x");
  CHECK(config::RedactUserinfo("http://git.lan/users/a@b/env.git") == "http://git.lan/users/a@b/env.git");
  CHECK(config::RedactUserinfo("http://git.lan?x=a@b") == "http://git.lan?x=a@b");
  CHECK(config::RedactUserinfo("git@github.com:ops/env.git") == "git@github.com:ops/env.git");
  CHECK(config::RedactUserinfo("/srv/env.git") == "/srv/env.git");
}

TEST_CASE("CheckRemoteTransport refuses http:// and git:// unless allowed; the rest pass") {
  for (const char* url : {"http://git.lan/env.git", "git://127.0.0.1/env.git", "HTTP://git.lan/env.git",
                          "Git://git.lan/env.git"}) {
    INFO(url);
    auto r = config::CheckRemoteTransport(url, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kPermissionDenied);
    CHECK_THAT(r.error().message, Catch::Contains("repo.allow_insecure"));
    CHECK_THAT(r.error().message, Catch::Contains(config::RemoteScheme(url) + "://"));
    CHECK(config::CheckRemoteTransport(url, true).has_value());
  }
  for (const char* url :
       {"https://github.com/ops/env.git", "ssh://git@host:2222/env.git", "git@github.com:ops/env.git",
        "file:///srv/env.git", "/srv/env.git", "git+ssh://git@host/env.git", ""}) {
    INFO(url);
    CHECK(config::CheckRemoteTransport(url, false).has_value());
  }
  auto r = config::CheckRemoteTransport("http://podcd:s3cr3t-token@git.lan/env.git", false);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("s3cr3t-token") == std::string::npos);
  CHECK_THAT(r.error().message, Catch::Contains("http://***@git.lan/env.git"));
}

TEST_CASE("configuration: repo.url over http:// or git:// needs repo.allow_insecure") {
  auto refused = LoadWith("http://podcd:s3cr3t-token@git.lan/env.git", nullptr);
  REQUIRE_FALSE(refused);
  const std::string errors = AllErrors(refused.error());
  CHECK_THAT(errors, Catch::Contains("repo.url: http:// remotes are refused"));
  CHECK_THAT(errors, Catch::Contains("repo.allow_insecure"));
  CHECK(errors.find("s3cr3t-token") == std::string::npos);

  CHECK_FALSE(LoadWith("git://git.lan/env.git", "false"));
  auto allowed = LoadWith("git://git.lan/env.git", "true");
  REQUIRE(allowed);
  CHECK(allowed->repo.allow_insecure);
  auto https = LoadWith("https://github.com/ops/env.git", nullptr);
  REQUIRE(https);
  CHECK_FALSE(https->repo.allow_insecure);
  CHECK(LoadWith("git@github.com:ops/env.git", nullptr).has_value());
  CHECK(LoadWith("ssh://git@git.lan:2222/env.git", nullptr).has_value());
  CHECK(LoadWith("file:///srv/env.git", nullptr).has_value());
}
