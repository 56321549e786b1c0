#include "notify/text.hpp"

#include <catch2/catch.hpp>

#include "notice_fixture.hpp"
#include "util/json_text.hpp"

using namespace podcd;
using namespace podcd::notify;
using namespace podcd::notify::testing;

TEST_CASE("the summary says which deployment, what happened, on which commit, and why") {
  CHECK(Summary(FailedNotice()) ==
        "podcd: deployment 42 failed on 0123456: stack web failed (web: failed: health check timed out; db: "
        "unchanged)");
  auto n = FailedNotice();
  n.reason = "health check timed out";  // said by the stack already: not twice
  CHECK(Summary(n) ==
        "podcd: deployment 42 failed on 0123456 (web: failed: health check timed out; db: unchanged)");

  Notice started;
  started.what = What::kStarted;
  started.deployment = "9";
  CHECK(Summary(started) == "podcd: deployment 9 started");
  started.what = What::kRolledBack;
  CHECK(Summary(started) == "podcd: deployment 9 rolled back");
  CHECK(Title(FailedNotice()) == "podcd: deployment 42 failed");
}

TEST_CASE("the summary names failed stacks first and at most five") {
  Notice n;
  n.deployment = "1";
  for (int i = 0; i < 8; ++i) n.stacks.push_back({"ok" + std::to_string(i), "updated", ""});
  n.stacks.push_back({"bad", "rolled-back", "image pull failed"});
  const std::string s = Summary(n);
  CHECK(s.find("(bad: rolled-back: image pull failed; ok0: updated") != std::string::npos);
  CHECK(s.find("ok4") == std::string::npos);
  CHECK(s.find("; and 4 more)") != std::string::npos);
}

TEST_CASE("the summary keeps to its length limit, however long the reasons") {
  auto n = FailedNotice();
  n.reason = std::string(5000, 'r');
  for (auto& s : n.stacks) s.reason = std::string(5000, 'x');
  CHECK(Utf16Units(Summary(n)) <= kSummaryMax);
  CHECK(Utf16Units(Summary(n, 100)) <= 100);
  CHECK(Summary(n, 100).ends_with("\xe2\x80\xa6"));
}

TEST_CASE("Truncate cuts on a character boundary and counts astral characters twice") {
  CHECK(Truncate("abcde", 5) == "abcde");
  CHECK(Truncate("abcdef", 5) == "abcd\xe2\x80\xa6");
  CHECK(Truncate("abc", 0).empty());
  // é is two bytes, one character: never split.
  const std::string accents = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  CHECK(Truncate(accents, 4) == accents);
  CHECK(Truncate(accents, 3) == "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
  // 😀 (U+1F600) is two UTF-16 units: "ab😀" is four, cut at three it cannot stay.
  CHECK(Truncate("ab\xf0\x9f\x98\x80", 4) == "ab\xf0\x9f\x98\x80");
  CHECK(Truncate("ab\xf0\x9f\x98\x80", 3) == "ab\xe2\x80\xa6");
  for (std::size_t max = 0; max < 12; ++max) {
    const std::string cut = Truncate("\xf0\x9f\x98\x80x\xc3\xa9\xe2\x82\xacy\xf0\x9f\x98\x80z", max);
    CHECK(json::IsValidUtf8(cut));
    CHECK(Utf16Units(cut) <= max);
  }
  CHECK(json::IsValidUtf8(Truncate("bad \xc3\x28", 10)));
}

TEST_CASE("HeaderValue removes line breaks and cuts on a character boundary") {
  CHECK(HeaderValue("a\r\nb\tc") == "a  b c");
  CHECK(HeaderValue("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9");
  CHECK(json::IsValidUtf8(HeaderValue("\xc3", 10)));
}
