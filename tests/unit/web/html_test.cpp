// What every rendered value goes through.
#include "web/html.hpp"

#include <catch2/catch.hpp>

using namespace podcd::web;

TEST_CASE("html: the five special characters become entities; text stays") {
  CHECK(Escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  CHECK(Escape("plain text 123 äöü ✓") == "plain text 123 äöü ✓");
  CHECK(Escape("") == "");
  CHECK(Escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(Escape("\" onmouseover=\"x") == "&quot; onmouseover=&quot;x");
  CHECK(Escape("&amp;") == "&amp;amp;");
}

TEST_CASE("html: ill-formed UTF-8 and NUL bytes are replaced, never passed through") {
  const std::string bad = std::string("a\xff") + "b" + std::string(1, '\0') + "c\xc3";
  const std::string out = Escape(bad);
  CHECK(out.find('\xff') == std::string::npos);
  CHECK(out.find('\0') == std::string::npos);
  CHECK(
      out.starts_with("a\xEF\xBF\xBD"
                      "b"));
  CHECK(out.find("&#xFFFD;c") != std::string::npos);
}

TEST_CASE("html: times, relative and exact") {
  const std::int64_t now = 1'796'200'000'000;
  CHECK(RelativeTime(now - 2'000, now) == "just now");
  CHECK(RelativeTime(now - 42'000, now) == "42 s ago");
  CHECK(RelativeTime(now - 5 * 60'000, now) == "5 min ago");
  CHECK(RelativeTime(now - 3 * 3'600'000, now) == "3 h ago");
  CHECK(RelativeTime(now - 2 * 86'400'000LL, now) == "2 d ago");
  CHECK(RelativeTime(now + 30'000, now) == "in 30 s");
  CHECK(ExactTime(0).empty());
  CHECK(ExactTime(1'796'200'000'000) == "2026-12-02 08:26:40 UTC");
  CHECK(TimeElement(0, now) == "never");
  CHECK(TimeElement(now - 42'000, now) == "<time datetime=2026-12-02T08:25:58Z>42 s ago</time>");
}

TEST_CASE("html: attribute values are bare only when no byte could end or change them") {
  auto attr = [](std::string_view v) {
    std::string out;
    AppendAttribute(out, v);
    return out;
  };
  CHECK(attr("/deploy/stacks/web-1_a.b:c%20~") == "=/deploy/stacks/web-1_a.b:c%20~");
  CHECK(attr("") == "=\"\"");
  CHECK(attr("a b") == "=\"a b\"");
  CHECK(attr("x=y") == "=\"x=y\"");
  CHECK(attr("a`b") == "=\"a`b\"");
  CHECK(attr("/x\"><script>") == "=\"/x&quot;&gt;&lt;script&gt;\"");
  CHECK(attr("a'b") == "=\"a&#39;b\"");
  CHECK(UrlComponent("web-1_a.b~") == "web-1_a.b~");
  CHECK(UrlComponent("a b/c?d=e&f\"<") == "a%20b%2Fc%3Fd%3De%26f%22%3C");
}
