#include "notify/message.hpp"

#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace podcd::notify;

TEST_CASE("every event word reads back as itself; others are unknown") {
  for (auto w : {What::kStarted, What::kSucceeded, What::kFailed, What::kRolledBack, What::kRefused,
                 What::kRecovered}) {
    auto back = ParseWhat(ToString(w));
    REQUIRE(back);
    CHECK(*back == w);
  }
  CHECK(ToString(What::kRolledBack) == "rolled_back");
  CHECK_FALSE(ParseWhat("rolled-back"));
  CHECK_FALSE(ParseWhat("FAILED"));
  CHECK_FALSE(ParseWhat(""));
}

TEST_CASE("the configuration's event words are the notices' words") {
  std::size_t n = 0;
  for (auto word : podcd::config::kNotifyEvents) {
    INFO(word);
    CHECK(ParseWhat(word));
    ++n;
  }
  CHECK(n == 6);
}
