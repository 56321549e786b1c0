#include "util/log.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace podcd;

namespace {
// Captures lines for the duration of a test and restores the previous sink after.
struct Capture {
  std::vector<std::string> lines;
  log::Sink previous;
  Capture() {
    previous = log::SetSink([this](log::Level, std::string_view l) { lines.emplace_back(l); });
  }
  ~Capture() {
    log::SetSink(previous);
    log::Configure(log::Format::kText, log::Level::kInfo);
    log::ClearSecretsForTest();
  }
};
}  // namespace

TEST_CASE("JSON log lines carry ts, level, msg and fields, escaped") {
  Capture c;
  log::Configure(log::Format::kJson, log::Level::kDebug);
  log::Info("deployed \"web\"\n", {{"stack", "web"}, {"deployment", "d-1"}, {"services", 3}});
  REQUIRE(c.lines.size() == 1);
  const auto& l = c.lines[0];
  CHECK(l.starts_with("{\"ts\":\""));
  CHECK(l.find("\"level\":\"info\"") != std::string::npos);
  CHECK(l.find("\"msg\":\"deployed \\\"web\\\"\\n\"") != std::string::npos);
  CHECK(l.find("\"stack\":\"web\"") != std::string::npos);
  CHECK(l.find("\"deployment\":\"d-1\"") != std::string::npos);
  CHECK(l.find("\"services\":\"3\"") != std::string::npos);
  CHECK(l.back() == '}');
}

TEST_CASE("JSON shape: timestamp is RFC 3339 UTC with milliseconds") {
  using namespace std::chrono;
  auto ts = sys_days{year{2026} / 11 / 21} + hours{23} + minutes{49} + seconds{37} + milliseconds{5};
  auto line = log::FormatLine(log::Format::kJson, log::Level::kWarn, ts, "m", {{"k", "v"}});
  CHECK(line == R"({"ts":"2026-11-21T23:49:37.005Z","level":"warn","msg":"m","k":"v"})");
}

TEST_CASE("text log lines: level, message, key=value with quoting") {
  using namespace std::chrono;
  auto ts = sys_days{year{2026} / 1 / 2};
  auto line = log::FormatLine(log::Format::kText, log::Level::kError, ts, "failed",
                              {{"stack", "web"}, {"reason", "port in use"}});
  CHECK(line == "2026-01-02T00:00:00.000Z ERROR failed stack=web reason=\"port in use\"");
}

TEST_CASE("lines below the level are dropped") {
  Capture c;
  log::Configure(log::Format::kText, log::Level::kWarn);
  log::Info("hidden");
  log::Debug("hidden");
  log::Warn("shown");
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("shown") != std::string::npos);
}

TEST_CASE("registered secrets never appear in a line, in messages or fields, in both formats") {
  Capture c;
  const std::string secret = "s3cr3t-webhook-value-123";
  log::AddSecret(secret);
  for (auto fmt : {log::Format::kText, log::Format::kJson}) {
    log::Configure(fmt, log::Level::kDebug);
    log::Error("bad signature for " + secret, {{"expected", secret}, {"twice", secret + secret}});
  }
  REQUIRE(c.lines.size() == 2);
  for (const auto& l : c.lines) {
    CHECK(l.find(secret) == std::string::npos);
    CHECK(l.find("***") != std::string::npos);
  }
}

TEST_CASE("level and format names parse") {
  log::Level l{};
  CHECK(log::ParseLevel("warning", l));
  CHECK(l == log::Level::kWarn);
  CHECK_FALSE(log::ParseLevel("loud", l));
  log::Format f{};
  CHECK(log::ParseFormat("json", f));
  CHECK(f == log::Format::kJson);
  CHECK_FALSE(log::ParseFormat("xml", f));
}

namespace {
// Valid JSON in the strict sense: RapidJSON parses it with UTF-8 validation on.
bool StrictJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !d.HasParseError();
}
}  // namespace

TEST_CASE("JSON log lines stay valid JSON for invalid UTF-8 in the message, keys and values") {
  using namespace std::chrono;
  const std::vector<std::string> bad = {"\x80",     "a\xbf",        "\xe2\x82",     "\xe2\x82z",
                                        "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                        "\xff",     "x\xfe\xff"};
  for (const auto& b : bad) {
    auto line = log::FormatLine(log::Format::kJson, log::Level::kError, sys_days{year{2026} / 1 / 2},
                                "compose file \"" + b + "\" is binary", {{"file" + b, b}});
    INFO(line);
    CHECK(StrictJson(line));
    CHECK(line.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD in its place
  }
  // Valid UTF-8 passes unchanged.
  auto line = log::FormatLine(log::Format::kJson, log::Level::kInfo, sys_days{year{2026} / 1 / 2},
                              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", {});
  CHECK(line.find("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e") != std::string::npos);
  CHECK(StrictJson(line));
}

TEST_CASE("a secret with ill-formed UTF-8 is masked in JSON lines too, where its bytes are repaired") {
  Capture c;
  const std::string secret = "s3cr3t-\xff-webhook-value";
  log::AddSecret(secret);
  log::Configure(log::Format::kJson, log::Level::kDebug);
  log::Error("bad signature", {{"expected", secret}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("s3cr3t") == std::string::npos);
  CHECK(c.lines[0].find("***") != std::string::npos);
}

// The bytes a JSON line has always had, now that RapidJSON's writer lays it out: the project's
// escapes (\u0008 \u000c and lowercase hex, where RapidJSON alone writes \b \f and uppercase),
// '/' and DEL and non-ASCII as they are, ill-formed UTF-8 as U+FFFD per maximal subpart, and in
// a key as in a value.
TEST_CASE("JSON log lines: exact bytes for quotes, backslashes, control characters and UTF-8") {
  using namespace std::chrono;
  const std::string raw = "q\"b\\s/c\x01\x08\x0c\x1f\x7f\n\r\tcaf\xc3\xa9 \xe2\x82\xac \xff\xe2\x82z";
  const std::string esc =
      "q\\\"b\\\\s/c\\u0001\\u0008\\u000c\\u001f\x7f\\n\\r\\tcaf\xc3\xa9 \xe2\x82\xac "
      "\xef\xbf\xbd\xef\xbf\xbdz";
  auto line = log::FormatLine(log::Format::kJson, log::Level::kDebug, sys_days{year{2026} / 1 / 2}, raw,
                              {{"k\x1f\"" + std::string("\xc0"), raw}, {"msg", "reserved"}, {"", ""}});
  CHECK(line == "{\"ts\":\"2026-01-02T00:00:00.000Z\",\"level\":\"debug\",\"msg\":\"" + esc +
                    "\",\"k\\u001f\\\"\xef\xbf\xbd\":\"" + esc + "\",\"\":\"\"}");
  CHECK(StrictJson(line));
}

TEST_CASE("JSON log line without fields") {
  using namespace std::chrono;
  auto line = log::FormatLine(log::Format::kJson, log::Level::kError, sys_days{year{2026} / 1 / 2}, "", {});
  CHECK(line == R"({"ts":"2026-01-02T00:00:00.000Z","level":"error","msg":""})");
}

// Masking ran on the finished line, after escaping: a secret with '"' or '\' is written
// escaped there (\" and \\), so it was not found and its escaped form leaked.
TEST_CASE("a secret with quotes and backslashes is masked before escaping, in both formats") {
  Capture c;
  const std::string secret = "canary\"quote\\back-slash-9f2";
  log::AddSecret(secret);
  for (auto fmt : {log::Format::kText, log::Format::kJson}) {
    log::Configure(fmt, log::Level::kDebug);
    log::Error("token " + secret + " refused", {{"value", "x " + secret + " y"}});
  }
  REQUIRE(c.lines.size() == 2);
  for (const auto& l : c.lines) {
    INFO(l);
    CHECK(l.find("quote") == std::string::npos);
    CHECK(l.find("back-slash") == std::string::npos);
    CHECK(l.find("***") != std::string::npos);
  }
  CHECK(StrictJson(c.lines[1]));
}

TEST_CASE("a secret that contains another is masked whole") {
  Capture c;
  log::AddSecret("abcdef12");
  log::AddSecret("abcdef12-long-tail");
  std::string text = "x abcdef12-long-tail y abcdef12 z";
  log::MaskSecrets(text);
  CHECK(text == "x *** y *** z");
  CHECK(log::Secrets().front() == "abcdef12-long-tail");
  CHECK(log::Masked("abcdef12") == "***");
}

TEST_CASE("URL userinfo: redacted for humans, registered as secrets") {
  CHECK(log::RedactUserinfo("https://bob:tok3n@git.example/env.git") == "https://***@git.example/env.git");
  CHECK(log::RedactUserinfo("https://ghp_abc@github.com/o/r") == "https://***@github.com/o/r");
  CHECK(log::RedactUserinfo("https://git.example/a@b") == "https://git.example/a@b");
  CHECK(log::RedactUserinfo("ssh://git@host/env.git") == "ssh://git@host/env.git");
  CHECK(log::RedactUserinfo("ssh://git:pw@host/env.git") == "ssh://git:***@host/env.git");
  CHECK(log::RedactUserinfo("git@host:env.git") == "git@host:env.git");
  CHECK(log::RedactUserinfo("/srv/env") == "/srv/env");
  CHECK(log::UrlSecrets("https://bob:t%2Fk@h/x") == std::vector<std::string>{"t%2Fk", "t/k"});
  CHECK(log::UrlSecrets("https://ghp_abc@h/x") == std::vector<std::string>{"ghp_abc"});
  CHECK(log::UrlSecrets("ssh://git@h/x").empty());
  CHECK(log::UrlSecrets("https://h/x").empty());
}
