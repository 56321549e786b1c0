#include <catch2/catch.hpp>

#include "notice_fixture.hpp"
#include "notify/formats.hpp"
#include "util/json.hpp"

using namespace podcd;
using namespace podcd::notify;
using namespace podcd::notify::testing;

TEST_CASE("ntfy: the summary as text to the topic, Title, Priority, Tags, Click and a bearer token") {
  const auto out =
      Render(Target("ntfy", "https://ntfy.example/podcd-alerts", std::string(kCanary)), FailedNotice());
  REQUIRE(out);
  CHECK(out->method == "POST");
  CHECK(out->url == "https://ntfy.example/podcd-alerts");
  CHECK(out->body.starts_with("podcd: deployment 42 failed on 0123456"));
  CHECK(out->body.find("health check timed out") != std::string::npos);
  CHECK(Header(*out, "Title") == "podcd: deployment 42 failed");
  CHECK(Header(*out, "Priority") == "high");
  CHECK(Header(*out, "Tags") == "x");
  CHECK(Header(*out, "Click") == "https://podcd.example.net/deployments/42");
  CHECK(Header(*out, "Authorization") == "Bearer " + std::string(kCanary));
  CHECK(Header(*out, "Content-Type") == "text/plain; charset=utf-8");

  auto n = FailedNotice();
  n.what = What::kSucceeded;
  n.link.clear();
  const auto ok = Render(Target("ntfy", "https://ntfy.example/t"), n);
  REQUIRE(ok);
  CHECK(Header(*ok, "Priority") == "default");
  CHECK(Header(*ok, "Tags") == "white_check_mark");
  CHECK_FALSE(Header(*ok, "Click"));
  CHECK_FALSE(Header(*ok, "Authorization"));
  n.what = What::kRolledBack;
  CHECK(Header(*Render(Target("ntfy", "https://ntfy.example/t"), n), "Priority") == "high");
}

TEST_CASE("slack: {\"text\"} with the summary and the link, Slack's control characters escaped") {
  auto n = FailedNotice();
  n.stacks[0].reason = "<!channel> a & b";
  const auto out = Render(Target("slack", "https://hooks.slack.com/services/T/B/X"), n);
  REQUIRE(out);
  CHECK(out->url == "https://hooks.slack.com/services/T/B/X");
  CHECK(Header(*out, "Content-Type") == "application/json");
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  const std::string text = json::GetStr(d, "text");
  CHECK(text.starts_with("podcd: deployment 42 failed on 0123456"));
  CHECK(text.find("&lt;!channel&gt; a &amp; b") != std::string::npos);
  CHECK(text.find("<!channel>") == std::string::npos);
  CHECK(text.ends_with("\nhttps://podcd.example.net/deployments/42"));
}

TEST_CASE("discord: {\"content\"} of at most 2000 characters, no mentions parsed") {
  const auto out = Render(Target("discord", "https://discord.com/api/webhooks/1/abc"), FailedNotice());
  REQUIRE(out);
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  CHECK(json::GetStr(d, "content").starts_with("podcd: deployment 42 failed"));
  REQUIRE(d.HasMember("allowed_mentions"));
  REQUIRE(d["allowed_mentions"]["parse"].IsArray());
  CHECK(d["allowed_mentions"]["parse"].Empty());
}

TEST_CASE("discord: a long notice is cut to 2000 characters on a character boundary") {
  auto n = FailedNotice();
  // A link of 3000 emoji (6000 UTF-16 units): the cut must fall between two of them.
  n.link.clear();
  for (int i = 0; i < 3000; ++i) n.link += "\xf0\x9f\x98\x80";
  const auto out = Render(Target("discord", "https://discord.com/api/webhooks/1/abc"), n);
  REQUIRE(out);
  CHECK(json::IsValidUtf8(out->body));
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  const std::string content = json::GetStr(d, "content");
  const std::size_t units = Utf16Units(content);
  CHECK(units <= 2000);
  CHECK(units >= 1990);
  CHECK(content.ends_with("\xe2\x80\xa6"));
}

TEST_CASE("gotify: POST <server>/message, the app token in X-Gotify-Key, title, message, priority") {
  const auto out = Render(Target("gotify", "https://gotify.example/", std::string(kCanary)), FailedNotice());
  REQUIRE(out);
  CHECK(out->url == "https://gotify.example/message");
  CHECK(Header(*out, "X-Gotify-Key") == kCanary);
  const auto d = Parse(out->body);
  REQUIRE(d.IsObject());
  CHECK(json::GetStr(d, "title") == "podcd: deployment 42 failed");
  CHECK(json::GetStr(d, "message").starts_with("podcd: deployment 42 failed on 0123456"));
  CHECK(json::GetInt(d, "priority") == 8);

  auto n = FailedNotice();
  n.what = What::kStarted;
  const auto started = Render(Target("gotify", "https://gotify.example/sub/message"), n);
  REQUIRE(started);
  CHECK(started->url == "https://gotify.example/sub/message");
  CHECK(Render(Target("gotify", "https://gotify.example/sub/?via=proxy"), n)->url ==
        "https://gotify.example/sub/message?via=proxy");
  CHECK(json::GetInt(Parse(started->body), "priority") == 5);
  CHECK_FALSE(Header(*started, "X-Gotify-Key"));
}

TEST_CASE("apprise: /notify/<key> as given, /notify/ appended to a bare server, title, body, type") {
  const auto keyed = Render(Target("apprise", "http://apprise:8000/notify/podcd"), FailedNotice());
  REQUIRE(keyed);
  CHECK(keyed->url == "http://apprise:8000/notify/podcd");
  CHECK(Render(Target("apprise", "http://apprise:8000"), FailedNotice())->url ==
        "http://apprise:8000/notify/");
  CHECK(Render(Target("apprise", "http://apprise:8000/"), FailedNotice())->url ==
        "http://apprise:8000/notify/");
  CHECK(Render(Target("apprise", "http://apprise:8000/notify/"), FailedNotice())->url ==
        "http://apprise:8000/notify/");
  const auto d = Parse(keyed->body);
  REQUIRE(d.IsObject());
  CHECK(json::GetStr(d, "title") == "podcd: deployment 42 failed");
  CHECK(json::GetStr(d, "body").starts_with("podcd: deployment 42 failed on 0123456"));
  CHECK(json::GetStr(d, "type") == "failure");
  CHECK_FALSE(Header(*keyed, "Authorization"));

  const std::pair<What, std::string_view> types[] = {
      {What::kStarted, "info"},       {What::kSucceeded, "success"}, {What::kRecovered, "success"},
      {What::kRolledBack, "warning"}, {What::kRefused, "warning"},   {What::kFailed, "failure"}};
  for (const auto& [what, type] : types) {
    auto n = FailedNotice();
    n.what = what;
    const auto out = Render(Target("apprise", "http://apprise:8000/notify/k", "tok"), n);
    REQUIRE(out);
    CHECK(json::GetStr(Parse(out->body), "type") == type);
    CHECK(Header(*out, "Authorization") == "Bearer tok");
  }
}

TEST_CASE("a canary secret given as a target's secret never appears in any body") {
  for (const char* type : {"webhook", "ntfy", "slack", "discord", "gotify", "apprise"}) {
    for (auto what : {What::kStarted, What::kSucceeded, What::kFailed, What::kRolledBack, What::kRefused,
                      What::kRecovered}) {
      auto n = FailedNotice();
      n.what = what;
      const auto out = Render(Target(type, "https://receiver.example/x", std::string(kCanary)), n);
      REQUIRE(out);
      INFO(type);
      CHECK(out->body.find(kCanary) == std::string::npos);
      CHECK(out->body.find("receiver.example") == std::string::npos);  // nor the target's URL
    }
  }
}
