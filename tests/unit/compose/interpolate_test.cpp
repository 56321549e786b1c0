#include "compose/interpolate.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using namespace podcd;
using namespace podcd::compose;

namespace {

const std::map<std::string, std::string> kVars = {
    {"SET", "value"}, {"EMPTY", ""}, {"PORT", "8080"}, {"NESTED", "inner"}};

std::string I(std::string_view text) {
  auto r = Interpolate(text, MapLookup(kVars));
  REQUIRE(r);
  return r->value;
}

Error E(std::string_view text) {
  auto r = Interpolate(text, MapLookup(kVars));
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("plain and braced variables") {
  CHECK(I("$SET") == "value");
  CHECK(I("${SET}") == "value");
  CHECK(I("a${SET}b") == "avalueb");
  CHECK(I("$SET-x") == "value-x");
  CHECK(I("$SETx") == "");  // the name is SETx
  CHECK(I("${PORT}:80") == "8080:80");
  CHECK(I("no variables") == "no variables");
}

TEST_CASE("unset variables become empty and are reported") {
  auto r = Interpolate("x${MISSING}y$ALSO", MapLookup(kVars));
  REQUIRE(r);
  CHECK(r->value == "xy");
  CHECK(r->unset == std::vector<std::string>{"MISSING", "ALSO"});
  auto s = Interpolate("${EMPTY}", MapLookup(kVars));
  REQUIRE(s);
  CHECK(s->value.empty());
  CHECK(s->unset.empty());
}

TEST_CASE("default operators distinguish unset from empty") {
  CHECK(I("${SET:-d}") == "value");
  CHECK(I("${EMPTY:-d}") == "d");
  CHECK(I("${MISSING:-d}") == "d");
  CHECK(I("${SET-d}") == "value");
  CHECK(I("${EMPTY-d}") == "");
  CHECK(I("${MISSING-d}") == "d");
  CHECK(I("${MISSING:-}") == "");
  CHECK(I("${MISSING:-a b:c}") == "a b:c");
}

TEST_CASE("alternative operators") {
  CHECK(I("${SET:+alt}") == "alt");
  CHECK(I("${EMPTY:+alt}") == "");
  CHECK(I("${MISSING:+alt}") == "");
  CHECK(I("${SET+alt}") == "alt");
  CHECK(I("${EMPTY+alt}") == "alt");
  CHECK(I("${MISSING+alt}") == "");
}

TEST_CASE("required operators fail with the variable and position") {
  CHECK(I("${SET:?boom}") == "value");
  CHECK(I("${SET?boom}") == "value");
  CHECK(I("${EMPTY?boom}") == "");
  auto e = E("abc ${MISSING:?please set it}");
  CHECK(e.message.find("MISSING") != std::string::npos);
  CHECK(e.message.find("please set it") != std::string::npos);
  CHECK(e.context == "offset 5");
  auto f = E("${EMPTY:?}");
  CHECK(f.message.find("EMPTY is empty") != std::string::npos);
  auto g = E("${MISSING?}");
  CHECK(g.message.find("MISSING is missing a value") != std::string::npos);
}

TEST_CASE("nested defaults are interpolated only when used") {
  CHECK(I("${MISSING:-${NESTED}}") == "inner");
  CHECK(I("${MISSING:-${ALSO:-deep}}") == "deep");
  CHECK(I("${MISSING:-x${SET}y}") == "xvaluey");
  CHECK(I("${SET:-${MISSING:?never evaluated}}") == "value");
  CHECK(I("${SET:+[${NESTED}]}") == "[inner]");
  CHECK_FALSE(Interpolate("${MISSING:-${ALSO:?inner error}}", MapLookup(kVars)));
}

TEST_CASE("escapes and shell syntax stay literal") {
  CHECK(I("$$") == "$");
  CHECK(I("$$SET") == "$SET");
  CHECK(I("$${SET}") == "${SET}");
  CHECK(I("a$$$SET") == "a$value");
  CHECK(I("$(rm -rf /)") == "$(rm -rf /)");
  CHECK(I("`id`; echo hi") == "`id`; echo hi");
  CHECK(I("cost: 5$") == "cost: 5$");
  CHECK(I("$1 $ x") == "$1 $ x");
  CHECK(I("${MISSING:-$$}") == "$");
}

TEST_CASE("malformed references are errors with positions") {
  CHECK(E("${").message.find("name") != std::string::npos);
  CHECK(E("${}").context == "offset 1");
  CHECK(E("xx${1A}").context == "offset 3");
  CHECK(E("${SET").message.find("unterminated") != std::string::npos);
  CHECK(E("${SET:x}").message.find("operator") != std::string::npos);
  CHECK(E("${SET:-abc").message.find("unterminated") != std::string::npos);
  CHECK(E("${A B}").message.find("operator") != std::string::npos);
}

TEST_CASE("very deep nesting is refused, not a stack overflow") {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "${X:-";
  s += "v";
  for (int i = 0; i < 100; ++i) s += "}";
  CHECK_FALSE(Interpolate(s, MapLookup({})));
}

TEST_CASE("env files: assignments, export, comments, quotes") {
  const char* text =
      "# comment\n"
      "\n"
      "A=1\n"
      "export B = two words \n"
      "C=\"quoted # not a comment\" # comment\n"
      "D='single ${A} $$'\n"
      "E=\"line1\\nline2 ${A} \\$A\"\n"
      "F=value # trailing comment\n"
      "G=a#b\n"
      "H=\n"
      "I=${A}-${UNDEF:-def}\n"
      "J=\"multi\n"
      "line\"\n"
      "HOSTVAR\n"
      "NOTSET\n"
      "A=override\n";
  auto r = ParseEnvFile(text, "x.env", MapLookup({{"HOSTVAR", "fromhost"}}));
  REQUIRE(r);
  auto m = ToMap(*r);
  CHECK(m.at("A") == "override");
  CHECK(m.at("B") == "two words");
  CHECK(m.at("C") == "quoted # not a comment");
  CHECK(m.at("D") == "single ${A} $$");
  CHECK(m.at("E") == "line1\nline2 1 $A");
  CHECK(m.at("F") == "value");
  CHECK(m.at("G") == "a#b");
  CHECK(m.at("H").empty());
  CHECK(m.at("I") == "1-def");
  CHECK(m.at("J") == "multi\nline");
  CHECK(m.at("HOSTVAR") == "fromhost");
  CHECK_FALSE(m.contains("NOTSET"));
  CHECK(r->front().first == "A");
}

TEST_CASE("env file errors name the file and line") {
  auto bad_key = ParseEnvFile("A=1\n\n1BAD=2\n", "s/.env", MapLookup({}));
  REQUIRE_FALSE(bad_key);
  CHECK(bad_key.error().context == "s/.env:3");
  auto unterminated = ParseEnvFile("A=1\nB=\"open\nC=2\n", "s/.env", MapLookup({}));
  REQUIRE_FALSE(unterminated);
  CHECK(unterminated.error().context == "s/.env:2");
  CHECK(unterminated.error().message.find("B") != std::string::npos);
  auto trailing = ParseEnvFile("A='x' y\n", "f", MapLookup({}));
  REQUIRE_FALSE(trailing);
  CHECK(trailing.error().context == "f:1");
  auto required = ParseEnvFile("\nA=${NOPE:?need it}\n", "f", MapLookup({}));
  REQUIRE_FALSE(required);
  CHECK(required.error().context == "f:2");
  CHECK(required.error().message.find("NOPE") != std::string::npos);
  auto colon = ParseEnvFile("KEY: value\n", "f", MapLookup({}));
  CHECK_FALSE(colon);
}

// A PEM pasted into a secrets env file was quoted whole in the plan and the record
// ("invalid variable name \"MIIEv...\""): messages name the file, the line and the key only.
TEST_CASE("env file errors never quote a line or a value") {
  const std::string pem_line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC+kcwggSjAgEAAoIB/canary";
  auto pem = ParseEnvFile("A=1\n-----BEGIN PRIVATE KEY-----\n" + pem_line + "\n", "<secrets>/app.env",
                          MapLookup({}));
  REQUIRE_FALSE(pem);
  CHECK(pem.error().What() == "<secrets>/app.env:2: not KEY=VALUE");
  auto third = ParseEnvFile("A=1\nB=2\n" + pem_line + "\n", "<secrets>/app.env", MapLookup({}));
  REQUIRE_FALSE(third);
  CHECK(third.error().What() == "<secrets>/app.env:3: not KEY=VALUE");
  auto padded = ParseEnvFile("TOKEN=x\nab+cd/canary==\n", "f", MapLookup({}));
  REQUIRE_FALSE(padded);
  CHECK(padded.error().What().find("canary") == std::string::npos);
  CHECK(padded.error().context == "f:2");
  // The text of ${VAR:?text} is interpolated from the file's other values: left out.
  auto required = ParseEnvFile("PASS=canary-value\nA=${NOPE:?no NOPE, PASS is $PASS}\n", "f", MapLookup({}));
  REQUIRE_FALSE(required);
  CHECK(required.error().What() == "f:2: required variable NOPE is missing a value");
  auto quoted = ParseEnvFile("PASS=canary-value\nA=\"${NOPE?$PASS}\"\n", "f", MapLookup({}));
  REQUIRE_FALSE(quoted);
  CHECK(quoted.error().What().find("canary") == std::string::npos);
}

TEST_CASE("a value is bounded once variables are substituted, before it is built") {
  auto vars = MapLookup({{"A", "xxxx"}});
  CHECK(Interpolate("$A${A}", vars, 8)->value == "xxxxxxxx");
  for (const char* text : {"$A$A$A", "${A}${A}${A}", "$A${A:-d}${A}", "${A:?e}${A}${A}", "ab${A}$A"}) {
    INFO(text);
    auto r = Interpolate(text, vars, 8);
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "the value expands to more than 8 bytes once variables are substituted, podcd's limit");
  }
  CHECK_FALSE(Interpolate("123456789", vars, 8));                    // literal text alone
  CHECK(Interpolate("${MISSING:+$A$A$A}", vars, 8)->value.empty());  // an unused alternative costs nothing

  // A thousandfold at each line: 10 bytes, 10 KB, 10 MB (refused), never 10 GB.
  std::string env = "A=xxxxxxxxxx\n";
  for (char v : {'B', 'C', 'D', 'E'}) {
    env += std::string(1, v) + "=\"";
    for (int i = 0; i < 1000; ++i) env += std::string("${") + static_cast<char>(v - 1) + "}";
    env += "\"\n";
  }
  const auto start = std::chrono::steady_clock::now();
  auto bomb = ParseEnvFile(env, "s/.env", MapLookup({}));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  REQUIRE_FALSE(bomb);
  CHECK(bomb.error().context == "s/.env:3");
  CHECK(bomb.error().message ==
        "the value expands to more than 1048576 bytes once variables are substituted, podcd's limit");

  // All values of a stack share one budget, spent as they are read.
  std::size_t budget = 25;
  auto ok = ParseEnvFile("A=0123456789\nB=$A\n", "s/.env", MapLookup({}), &budget);
  REQUIRE(ok);
  CHECK(budget == 5);
  auto spent = ParseEnvFile("C=\nD=123456\n", "s/.env", MapLookup({}), &budget);
  REQUIRE_FALSE(spent);
  CHECK(spent.error().context == "s/.env:2");
  CHECK(spent.error().message ==
        "the stack's variables and values expand to more than 16 MiB, podcd's limit (at D)");
}
