// `notify:`, `forge:` and http.public_url (issue 15): read, checked, errors that name the line and
// the key path, secrets read from files and masked.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "support/temp_dir.hpp"
#include "util/log.hpp"

using namespace podcd;

namespace {

config::LoadOptions FileOptions(const test::TempDir& dir, const std::string& yaml) {
  auto file =
      dir.Write("podcd.yml", "webhook:\n  secret: 0123456789abcdef-secret\nrepo:\n  path: /srv/env\n" + yaml);
  config::LoadOptions o;
  o.file = file.string();
  o.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  return o;
}

std::string Errors(const std::expected<config::Config, std::vector<Error>>& r) {
  std::string out;
  if (!r)
    for (const auto& e : r.error()) out += e.What() + "\n";
  return out;
}

}  // namespace

TEST_CASE("notify: targets with their defaults, names, secrets from files") {
  test::TempDir dir;
  auto secret = dir.Write("hook_secret", "notify-canary-secret-1234\n");
  auto token = dir.Write("ntfy_token", "tk_ntfycanarytoken\n");
  auto r = config::Load(FileOptions(dir,
                                    "notify:\n"
                                    "  - type: webhook\n"
                                    "    url: https://example.net/hook\n"
                                    "    secret_file: " +
                                        secret.string() +
                                        "\n"
                                        "  - type: ntfy\n"
                                        "    name: phones\n"
                                        "    url: http://127.0.0.1:8090/podcd\n"
                                        "    token_file: " +
                                        token.string() +
                                        "\n"
                                        "    on: [started, failed]\n"
                                        "    stacks: [web, app]\n"
                                        "http:\n  public_url: https://podcd.example.net/podcd/\n"));
  INFO(Errors(r));
  REQUIRE(r);
  REQUIRE(r->notify.size() == 2);
  const auto& hook = r->notify[0];
  CHECK(hook.type == "webhook");
  CHECK(hook.name == "webhook-0");
  CHECK(hook.url == "https://example.net/hook");
  CHECK(hook.secret == "notify-canary-secret-1234");
  CHECK(hook.on == std::vector<std::string>{"failed", "rolled_back", "recovered"});
  CHECK(hook.stacks.empty());
  const auto& phones = r->notify[1];
  CHECK(phones.name == "phones");
  CHECK(phones.secret == "tk_ntfycanarytoken");
  CHECK(phones.on == std::vector<std::string>{"started", "failed"});
  CHECK(phones.stacks == std::vector<std::string>{"web", "app"});
  CHECK(r->http.public_url == "https://podcd.example.net/podcd");
  // Secrets are masked in every log line from now on.
  CHECK(log::Masked("key notify-canary-secret-1234 and tk_ntfycanarytoken") == "key *** and ***");
}

TEST_CASE("notify: each mistake names its line and key path") {
  test::TempDir dir;
  auto r = config::Load(FileOptions(dir,
                                    "notify:\n"
                                    "  - type: webhook\n"
                                    "    url: https://example.net/hook\n"
                                    "  - type: pager\n"
                                    "    url: https://example.net/p\n"
                                    "  - type: slack\n"
                                    "    url: https://hooks.example.net/services/T0/B0/xyz\n"
                                    "    on: [failed, fail]\n"
                                    "  - type: discord\n"
                                    "    url: http://discord.example.net/api/webhooks/1/abc\n"
                                    "  - type: gotify\n"
                                    "    url: ftp://gotify.example.net\n"
                                    "    token: inline\n"
                                    "  - type: apprise\n"
                                    "    url: https://apprise.example.net/notify\n"
                                    "    secret_file: /nonexistent/secret\n"
                                    "    stacks: [Web]\n"
                                    "  - type: ntfy\n"
                                    "    on: []\n"));
  REQUIRE_FALSE(r);
  const std::string e = Errors(r);
  INFO(e);
  CHECK(e.find(":8:11: notify[1].type: \"pager\" is not a target type; one of webhook, ntfy, slack, discord, "
               "gotify, apprise") != std::string::npos);
  CHECK(e.find(":12:18: notify[2].on[1]: \"fail\" is not an event; one of started, succeeded, failed, "
               "rolled_back, refused, recovered") != std::string::npos);
  CHECK(e.find(":14:10: notify[3].url: http:// sends notices and tokens unencrypted") != std::string::npos);
  CHECK(e.find("notify[4].url: expected an http:// or https:// URL") != std::string::npos);
  CHECK(e.find("notify[4].token: put it in a file and give token_file") != std::string::npos);
  CHECK(e.find("notify[5].secret_file: cannot read secret file \"/nonexistent/secret\"") !=
        std::string::npos);
  CHECK(e.find("notify[5].stacks[0]: \"Web\" is not a stack name") != std::string::npos);
  CHECK(e.find("notify[6].url: is required") != std::string::npos);
  CHECK(e.find("notify[6].on: names no event") != std::string::npos);
  CHECK(e.find("notify[0]") == std::string::npos);
  // A URL's path holds a Slack or Discord token: no error quotes it.
  CHECK(e.find("webhooks/1/abc") == std::string::npos);
}

TEST_CASE("notify: http:// is for loopback, or asked for; names are unique") {
  test::TempDir dir;
  auto ok =
      config::Load(FileOptions(dir,
                               "notify:\n"
                               "  - {type: gotify, url: 'http://localhost:8080/message'}\n"
                               "  - {type: ntfy, url: 'http://ntfy.lan/podcd', allow_insecure: true}\n"));
  INFO(Errors(ok));
  CHECK(ok);
  auto dup = config::Load(FileOptions(dir,
                                      "notify:\n"
                                      "  - {type: slack, name: team, url: 'https://a.example/x'}\n"
                                      "  - {type: discord, name: team, url: 'https://b.example/y'}\n"));
  REQUIRE_FALSE(dup);
  CHECK(Errors(dup).find("notify[1].name: \"team\" names another target too") != std::string::npos);
  auto not_list = config::Load(FileOptions(dir, "notify:\n  type: slack\n"));
  REQUIRE_FALSE(not_list);
  CHECK(Errors(not_list).find("notify: expected a sequence of targets, got a mapping") != std::string::npos);
}

TEST_CASE("forge: type, API, repository and a token from a file") {
  test::TempDir dir;
  auto token = dir.Write("forge_token", "ghp_forgecanarytoken\n");
  auto r = config::Load(FileOptions(dir,
                                    "forge:\n"
                                    "  type: github\n"
                                    "  api_url: https://api.github.com\n"
                                    "  repository: acme/env\n"
                                    "  token_file: " +
                                        token.string() +
                                        "\n"
                                        "  host: edge-1\n"));
  INFO(Errors(r));
  REQUIRE(r);
  CHECK(r->forge.type == "github");
  CHECK(r->forge.api_url == "https://api.github.com");
  CHECK(r->forge.repository == "acme/env");
  CHECK(r->forge.token == "ghp_forgecanarytoken");
  CHECK(r->forge.host == "edge-1");
  CHECK(log::Masked("ghp_forgecanarytoken") == "***");

  auto bad = config::Load(FileOptions(dir, "forge:\n  type: bitbucket\n"));
  REQUIRE_FALSE(bad);
  CHECK(Errors(bad).find("forge.type: \"bitbucket\" is not a forge; one of github, gitea, gitlab") !=
        std::string::npos);
  auto missing = config::Load(FileOptions(dir, "forge:\n  type: gitea\n  repository: acme\n"));
  REQUIRE_FALSE(missing);
  const std::string e = Errors(missing);
  CHECK(e.find("forge.api_url: is required for gitea") != std::string::npos);
  CHECK(e.find("forge.repository: expected owner/name, got \"acme\"") != std::string::npos);
  CHECK(e.find("forge.token: is required") != std::string::npos);
  // GitHub has a default API.
  auto github = config::Load(FileOptions(
      dir, "forge:\n  type: github\n  repository: acme/env\n  token_file: " + token.string() + "\n"));
  INFO(Errors(github));
  CHECK(github);
  // GitLab takes a project id.
  auto gitlab = config::Load(FileOptions(dir,
                                         "forge:\n  type: gitlab\n  api_url: https://gitlab.example/api/v4\n"
                                         "  repository: '42'\n  token_file: " +
                                             token.string() + "\n"));
  INFO(Errors(gitlab));
  CHECK(gitlab);
}

TEST_CASE("http.public_url from the environment") {
  config::LoadOptions o;
  o.default_file = "/nonexistent/podcd.yml";
  o.env = [](std::string_view n) -> std::optional<std::string> {
    if (n == "WEBHOOK_SECRET") return "0123456789abcdef-secret";
    if (n == "PODCD_REPO_PATH") return "/srv/env";
    if (n == "PODCD_HTTP_PUBLIC_URL") return "https://podcd.example.net/";
    return std::nullopt;
  };
  auto r = config::Load(o);
  REQUIRE(r);
  CHECK(r->http.public_url == "https://podcd.example.net");
}
