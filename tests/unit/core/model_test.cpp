#include "core/model.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>

#include "core/fingerprint.hpp"

using namespace podcd::core;

TEST_CASE("stack names follow the configuration's rule") {
  CHECK(podcd::IsValidStackName("web"));
  CHECK(podcd::IsValidStackName("a1_b.c-d"));
  CHECK(podcd::IsValidStackName(std::string(63, 'a')));
  CHECK_FALSE(podcd::IsValidStackName(std::string(64, 'a')));
  CHECK_FALSE(podcd::IsValidStackName(""));
  CHECK_FALSE(podcd::IsValidStackName("Web"));
  CHECK_FALSE(podcd::IsValidStackName("-web"));
  CHECK_FALSE(podcd::IsValidStackName("we b"));
  CHECK_FALSE(podcd::IsValidStackName("../x"));
  CHECK_FALSE(podcd::IsValidStackName("a..b"));  // the API and the directory scan share one rule
}

TEST_CASE("canonical form makes defaults explicit and values unambiguous") {
  Stack st;
  st.name = "s";
  Service a;
  a.name = "app";
  a.environment = {{"A", "x\",\"B\":\"y"}};
  Service b;
  b.name = "app";
  b.environment = {{"A", "x"}, {"B", "y"}};
  auto ca = Canonicalize(st, a);
  CHECK(ca.at("privileged") == "false");
  CHECK(ca.at("restart") == "\"no\"");
  CHECK(ca.at("healthcheck") == "null");
  CHECK(Fingerprint(ca) != Fingerprint(Canonicalize(st, b)));
  Service c = a;
  c.command = std::vector<std::string>{};
  CHECK(Fingerprint(st, c) != Fingerprint(st, a));  // [] (cleared) differs from the image's command
}
