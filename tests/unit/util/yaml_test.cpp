#include "util/yaml.hpp"

#include <catch2/catch.hpp>

using namespace podcd;

TEST_CASE("syntax errors carry file:line:col") {
  auto r = yaml::Parse("a: 1\nb: [1, 2\n", "f.yml");
  REQUIRE_FALSE(r);
  CHECK(r.error().context.starts_with("f.yml:"));
}

TEST_CASE("duplicate keys are found at any depth with their position") {
  auto r = yaml::Parse("a:\n  x: 1\n  y: 2\n  x: 3\n", "f.yml");
  REQUIRE_FALSE(r);
  CHECK(r.error().context == "f.yml:4:3");
  CHECK(r.error().message == "duplicate key \"x\"");
  CHECK(yaml::Parse("a: {x: 1}\nb: {x: 1}\n", "f.yml"));
}

TEST_CASE("deep nesting is refused, not recursed forever") {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto r = yaml::Parse(deep, "f.yml");
  REQUIRE_FALSE(r);
}

TEST_CASE("an alias bomb is walked once per node, not once per path") {
  // 9 levels of 9 aliases: 9^9 paths, 81 nodes.
  std::string doc = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) doc += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    doc += "]\n";
  }
  // No clock here: a walk of 9^9 paths would not finish within ctest's timeout.
  auto r = yaml::Parse(doc, "bomb.yml");
  CHECK(r);
}
