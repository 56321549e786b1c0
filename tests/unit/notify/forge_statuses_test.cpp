#include <catch2/catch.hpp>

#include "notice_fixture.hpp"
#include "notify/formats.hpp"
#include "util/json.hpp"

using namespace podcd;
using namespace podcd::notify;
using namespace podcd::notify::testing;

namespace {

config::Config::Forge MakeForge(std::string type, std::string repository, std::string api_url = {}) {
  config::Config::Forge f;
  f.type = std::move(type);
  f.repository = std::move(repository);
  f.api_url = std::move(api_url);
  f.token = std::string(kCanary);
  return f;
}

Notice Started() {
  auto n = FailedNotice();
  n.what = What::kStarted;
  n.stacks.clear();
  n.reason.clear();
  return n;
}

}  // namespace

TEST_CASE("github: pending on `podcd` when a deployment starts") {
  const auto out = ForgeStatuses(MakeForge("github", "acme/env"), Started());
  REQUIRE(out.size() == 1);
  CHECK(out[0].target == "forge");
  CHECK(out[0].method == "POST");
  CHECK(out[0].url == "https://api.github.com/repos/acme/env/statuses/" + std::string(kSha));
  CHECK(Header(out[0], "Authorization") == "Bearer " + std::string(kCanary));
  CHECK(Header(out[0], "Accept") == "application/vnd.github+json");
  const auto d = Parse(out[0].body);
  REQUIRE(d.IsObject());
  CHECK(json::GetStr(d, "state") == "pending");
  CHECK(json::GetStr(d, "context") == "podcd");
  CHECK(json::GetStr(d, "description") == "deployment 42 started");
  CHECK(json::GetStr(d, "target_url") == "https://podcd.example.net/deployments/42");
}

TEST_CASE("a stack that starts: pending on its own context alone") {
  auto n = Started();
  n.stacks = {{"web", "pending", ""}};
  const auto out = ForgeStatuses(MakeForge("github", "acme/env"), n);
  REQUIRE(out.size() == 1);
  const auto d = Parse(out[0].body);
  CHECK(json::GetStr(d, "state") == "pending");
  CHECK(json::GetStr(d, "context") == "podcd/web");
  CHECK(json::GetStr(d, "description") == "being deployed by deployment 42");
  CHECK(json::GetStr(d, "target_url") == "https://podcd.example.net/deployments/42");
  const auto lab = ForgeStatuses(MakeForge("gitlab", "acme/env"), n);
  REQUIRE(lab.size() == 1);
  CHECK(json::GetStr(Parse(lab[0].body), "state") == "running");
  CHECK(json::GetStr(Parse(lab[0].body), "name") == "podcd/web");
}

TEST_CASE("github: a finished deployment: each stack on podcd/<stack>, then the overall podcd") {
  const auto out =
      ForgeStatuses(MakeForge("github", "acme/env", "https://ghe.example/api/v3/"), FailedNotice());
  REQUIRE(out.size() == 3);
  for (const auto& o : out)
    CHECK(o.url == "https://ghe.example/api/v3/repos/acme/env/statuses/" + std::string(kSha));
  const auto web = Parse(out[0].body);
  CHECK(json::GetStr(web, "context") == "podcd/web");
  CHECK(json::GetStr(web, "state") == "failure");
  CHECK(json::GetStr(web, "description") == "health check timed out");
  const auto db = Parse(out[1].body);
  CHECK(json::GetStr(db, "context") == "podcd/db");
  CHECK(json::GetStr(db, "state") == "success");
  CHECK(json::GetStr(db, "description") == "unchanged");
  const auto all = Parse(out[2].body);
  CHECK(json::GetStr(all, "context") == "podcd");
  CHECK(json::GetStr(all, "state") == "failure");
  CHECK(json::GetStr(all, "description") == "deployment 42 failed: stack web failed");

  auto n = FailedNotice();
  n.what = What::kSucceeded;
  n.reason.clear();
  n.stacks = {{"web", "updated", ""}, {"cron", "skipped", ""}};
  const auto ok = ForgeStatuses(MakeForge("github", "acme/env"), n);
  REQUIRE(ok.size() == 2);  // the skipped stack gets none
  CHECK(json::GetStr(Parse(ok[0].body), "state") == "success");
  CHECK(json::GetStr(Parse(ok[1].body), "state") == "success");
}

TEST_CASE("forge.host goes into every context") {
  auto forge = MakeForge("github", "acme/env");
  forge.host = "edge-1";
  const auto out = ForgeStatuses(forge, FailedNotice());
  REQUIRE(out.size() == 3);
  CHECK(json::GetStr(Parse(out[0].body), "context") == "podcd/edge-1/web");
  CHECK(json::GetStr(Parse(out[2].body), "context") == "podcd/edge-1");
}

TEST_CASE("descriptions keep to 140 characters") {
  auto n = FailedNotice();
  n.stacks[0].reason = std::string(500, 'y');
  n.reason = std::string(500, 'z');
  for (const auto& o : ForgeStatuses(MakeForge("github", "acme/env"), n)) {
    const std::string description = json::GetStr(Parse(o.body), "description");
    CHECK(description.size() <= 140 + 2);  // 139 ASCII and one three-byte ellipsis
    CHECK(json::IsValidUtf8(description));
  }
}

TEST_CASE("gitea: /api/v1 appended to a bare server, `token` authorization, its state words") {
  const auto out = ForgeStatuses(MakeForge("gitea", "acme/env", "https://git.example"), FailedNotice());
  REQUIRE(out.size() == 3);
  CHECK(out[0].url == "https://git.example/api/v1/repos/acme/env/statuses/" + std::string(kSha));
  CHECK(Header(out[0], "Authorization") == "token " + std::string(kCanary));
  CHECK(json::GetStr(Parse(out[0].body), "state") == "failure");
  CHECK(json::GetStr(Parse(out[0].body), "context") == "podcd/web");
  CHECK(ForgeStatuses(MakeForge("gitea", "acme/env", "https://git.example/api/v1/"), Started())[0].url ==
        "https://git.example/api/v1/repos/acme/env/statuses/" + std::string(kSha));
  CHECK(json::GetStr(
            Parse(ForgeStatuses(MakeForge("gitea", "acme/env", "https://g.example"), Started())[0].body),
            "state") == "pending");
  // Gitea has no public default: no api_url, no statuses.
  CHECK(ForgeStatuses(MakeForge("gitea", "acme/env"), FailedNotice()).empty());
}

TEST_CASE("gitlab: the project path encoded as one segment, PRIVATE-TOKEN, running/success/failed, name") {
  const auto started = ForgeStatuses(MakeForge("gitlab", "group/sub/project"), Started());
  REQUIRE(started.size() == 1);
  CHECK(started[0].url ==
        "https://gitlab.com/api/v4/projects/group%2Fsub%2Fproject/statuses/" + std::string(kSha));
  CHECK(Header(started[0], "PRIVATE-TOKEN") == kCanary);
  CHECK_FALSE(Header(started[0], "Authorization"));
  const auto d = Parse(started[0].body);
  CHECK(json::GetStr(d, "state") == "running");
  CHECK(json::GetStr(d, "name") == "podcd");
  CHECK_FALSE(d.HasMember("context"));
  CHECK(json::GetStr(d, "target_url") == "https://podcd.example.net/deployments/42");

  const auto done = ForgeStatuses(MakeForge("gitlab", "1234", "https://gitlab.example"), FailedNotice());
  REQUIRE(done.size() == 3);
  CHECK(done[0].url == "https://gitlab.example/api/v4/projects/1234/statuses/" + std::string(kSha));
  CHECK(json::GetStr(Parse(done[0].body), "state") == "failed");
  CHECK(json::GetStr(Parse(done[1].body), "state") == "success");
  CHECK(json::GetStr(Parse(done[2].body), "name") == "podcd");
  CHECK(ForgeStatuses(MakeForge("gitlab", "a b/c.d_e~f"), Started())[0].url.find(
            "/projects/a%20b%2Fc.d_e~f/") != std::string::npos);
}

TEST_CASE("no statuses without a forge, or without a full commit id") {
  CHECK(ForgeStatuses(MakeForge("", "acme/env"), FailedNotice()).empty());
  for (const std::string& commit : std::vector<std::string>{
           "", "0123456", "main", std::string(39, 'a'), std::string(41, 'a'), std::string(40, 'g'),
           std::string(63, 'a'), "0123456789abcdef0123456789abcdef0123456/"}) {
    auto n = FailedNotice();
    n.commit = commit;
    INFO(commit);
    CHECK(ForgeStatuses(MakeForge("github", "acme/env"), n).empty());
    CHECK(ForgeStatuses(MakeForge("gitlab", "g/p"), n).empty());
  }
  auto n = FailedNotice();
  n.commit = std::string(64, 'A');  // SHA-256 repositories; sent lowercase
  const auto out = ForgeStatuses(MakeForge("github", "acme/env"), n);
  REQUIRE_FALSE(out.empty());
  CHECK(out[0].url.ends_with("/statuses/" + std::string(64, 'a')));
}

TEST_CASE("a malformed repository gives no statuses; its parts cannot leave their path segment") {
  for (const char* repo : {"", "acme", "/env", "acme/", "acme/env/extra", "../env", "acme/.", "acme/.."})
    CHECK(ForgeStatuses(MakeForge("github", repo), FailedNotice()).empty());
  CHECK(ForgeStatuses(MakeForge("gitlab", ".."), FailedNotice()).empty());
  const auto out = ForgeStatuses(MakeForge("github", "ac me/..?x#y"), Started());
  REQUIRE(out.size() == 1);
  CHECK(out[0].url == "https://api.github.com/repos/ac%20me/..%3Fx%23y/statuses/" + std::string(kSha));
}

TEST_CASE("the forge token never appears in a status body") {
  for (const char* type : {"github", "gitea", "gitlab"}) {
    for (const auto& n : {Started(), FailedNotice()}) {
      for (const auto& o : ForgeStatuses(MakeForge(type, "acme/env", "https://forge.example"), n)) {
        INFO(type);
        CHECK(o.body.find(kCanary) == std::string::npos);
      }
    }
  }
}
