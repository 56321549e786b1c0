// ParseTrigger and VerifyTrigger: what the server reads from a trigger request's headers.
#include <catch2/catch.hpp>

#include <string>

#include "http/webhook.hpp"

using namespace podcd::http;
using Kind = Classification::Kind;

namespace {
constexpr std::string_view kSecret = "It's a Secret to Everybody";
constexpr std::string_view kBody = "Hello, World!";
const std::string kGood = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
constexpr auto kAll = TriggerEndpoint::kDeployAllChanged;
constexpr auto kOne = TriggerEndpoint::kRedeployAndUpdate;
}  // namespace

TEST_CASE("header names are looked up case-insensitively; absent is nullopt, empty is empty") {
  HeaderList h{{"x-github-EVENT", "push"}, {"X-Gitea-Delivery", ""}};
  CHECK(h.Get("X-GitHub-Event") == "push");
  CHECK(h.Get("x-gitea-delivery") == "");
  CHECK_FALSE(h.Get("X-Gitlab-Event").has_value());
}

TEST_CASE("VerifyTrigger: every signature spelling, the first present decides") {
  CHECK(VerifyTrigger(kSecret, HeaderList{{"X-Hub-Signature-256", "sha256=" + kGood}}, kBody));
  CHECK(VerifyTrigger(kSecret, HeaderList{{"x-hub-signature-256", "sha256=" + kGood}}, kBody));
  CHECK(VerifyTrigger(kSecret, HeaderList{{"X-Gitea-Signature", kGood}}, kBody));
  CHECK(VerifyTrigger(kSecret, HeaderList{{"X-Forgejo-Signature", kGood}}, kBody));
  CHECK(VerifyTrigger(kSecret, HeaderList{{"X-Gitlab-Token", std::string(kSecret)}}, kBody));
  CHECK_FALSE(VerifyTrigger(kSecret, HeaderList{}, kBody));
  CHECK_FALSE(VerifyTrigger(kSecret, HeaderList{{"X-Hub-Signature", "sha1=" + kGood}}, kBody));
  CHECK_FALSE(VerifyTrigger(kSecret, HeaderList{{"X-Hub-Signature-256", kGood}}, kBody));  // no prefix
  CHECK_FALSE(VerifyTrigger("", HeaderList{{"X-Gitlab-Token", ""}}, kBody));
  // A wrong X-Hub-Signature-256 is not saved by a right token behind it.
  CHECK_FALSE(VerifyTrigger(kSecret,
                            HeaderList{{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')},
                                       {"X-Gitlab-Token", std::string(kSecret)}},
                            kBody));
  // X-Gitea-Signature wins over X-Forgejo-Signature.
  CHECK_FALSE(VerifyTrigger(
      kSecret, HeaderList{{"X-Gitea-Signature", std::string(64, '0')}, {"X-Forgejo-Signature", kGood}},
      kBody));
}

TEST_CASE("ParseTrigger: GitHub push, ping, release, delivery") {
  auto push =
      ParseTrigger(kAll, HeaderList{{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "72d3162e"}}, "{}");
  REQUIRE(push.request);
  CHECK(push.error.empty());
  CHECK(push.request->kind == Kind::kTrigger);
  CHECK(push.request->event == "push");
  CHECK(push.request->delivery == "72d3162e");
  auto ping = ParseTrigger(kAll, HeaderList{{"X-GitHub-Event", "ping"}}, R"({"zen":"x"})");
  REQUIRE(ping.request);
  CHECK(ping.request->kind == Kind::kPong);
  CHECK(ParseTrigger(kOne, HeaderList{{"X-GitHub-Event", "PING"}}, "").request->kind == Kind::kPong);
  HeaderList release{{"X-GitHub-Event", "release"}, {"Content-Type", "application/json"}};
  CHECK(ParseTrigger(kOne, release, R"({"action":"published"})").request->kind == Kind::kTrigger);
  auto created = ParseTrigger(kOne, release, R"({"action":"created"})");
  REQUIRE(created.request);
  CHECK(created.request->kind == Kind::kIgnored);
  CHECK(created.request->reason == R"(action "created" is not "published")");
  // deploy-all-changed never reads the payload.
  CHECK(ParseTrigger(kAll, release, R"({"action":"created"})").request->kind == Kind::kTrigger);
  CHECK(ParseTrigger(kAll, release, "{not json").request->kind == Kind::kTrigger);
}

TEST_CASE("ParseTrigger: Gitea and GitLab spellings") {
  auto gitea = ParseTrigger(kOne, HeaderList{{"X-Gitea-Event", "release"}, {"X-Gitea-Delivery", "g-1"}},
                            R"({"action":"published"})");
  REQUIRE(gitea.request);
  CHECK(gitea.request->event == "release");
  CHECK(gitea.request->delivery == "g-1");
  auto gitlab =
      ParseTrigger(kAll, HeaderList{{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Event-UUID", "u-1"}}, "");
  REQUIRE(gitlab.request);
  CHECK(gitlab.request->event == "Push Hook");
  CHECK(gitlab.request->delivery == "u-1");
  // GitHub's header wins, even when empty.
  auto both = ParseTrigger(kAll, HeaderList{{"X-Gitea-Event", "push"}, {"X-GitHub-Event", ""}}, "");
  REQUIRE(both.request);
  CHECK(both.request->event.empty());
  auto ids = ParseTrigger(kAll, HeaderList{{"X-Gitlab-Event-UUID", "u"}, {"X-Gitea-Delivery", "g"}}, "");
  CHECK(ids.request->delivery == "g");
}

TEST_CASE("ParseTrigger: generic callers, bad JSON, wrong action types") {
  auto bare = ParseTrigger(kOne, HeaderList{}, "");
  REQUIRE(bare.request);
  CHECK(bare.request->kind == Kind::kTrigger);
  CHECK(bare.request->event.empty());
  CHECK(bare.request->delivery.empty());
  CHECK(ParseTrigger(kOne, HeaderList{{"Content-Type", "application/x-www-form-urlencoded"}}, "payload=x")
            .request->kind == Kind::kTrigger);
  // Sniffed as JSON without a Content-Type.
  CHECK(ParseTrigger(kOne, HeaderList{}, R"( {"action":"deleted"})").request->kind == Kind::kIgnored);
  auto bad =
      ParseTrigger(kOne, HeaderList{{"Content-Type", "application/json; charset=utf-8"}}, R"({"action":)");
  CHECK_FALSE(bad.request);
  CHECK(bad.error.find("malformed JSON") != std::string::npos);
  auto type = ParseTrigger(kOne, HeaderList{}, R"({"action":5})");
  CHECK_FALSE(type.request);
  CHECK(type.error == R"(field "action" must be a string)");
}

TEST_CASE("ParseTrigger: the event is cut at 100 bytes, the delivery kept whole") {
  auto r = ParseTrigger(
      kAll,
      HeaderList{{"X-GitHub-Event", std::string(300, 'e')}, {"X-GitHub-Delivery", std::string(300, 'd')}},
      "");
  REQUIRE(r.request);
  CHECK(r.request->event == std::string(100, 'e'));
  CHECK(r.request->delivery == std::string(300, 'd'));
}
