#include "util/strings.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace podcd;
using namespace std::chrono_literals;

TEST_CASE("durations parse in Go style units") {
  CHECK(ParseDuration("0") == 0ms);
  CHECK(ParseDuration("30s") == 30s);
  CHECK(ParseDuration("5m") == 5min);
  CHECK(ParseDuration("1h30m") == 90min);
  CHECK(ParseDuration("250ms") == 250ms);
  CHECK(ParseDuration(" 2h ") == 2h);
  CHECK_FALSE(ParseDuration("5"));
  CHECK_FALSE(ParseDuration(""));
  CHECK_FALSE(ParseDuration("m"));
  CHECK_FALSE(ParseDuration("5x"));
  CHECK_FALSE(ParseDuration("-5s"));
  CHECK_FALSE(ParseDuration("99999999999999999999s"));
  CHECK(FormatDuration(90min) == "1h30m");
  CHECK(FormatDuration(1500ms) == "1500ms");
  CHECK(FormatDuration(0ms) == "0");
}

TEST_CASE("booleans and integers parse strictly") {
  bool b = false;
  CHECK(ParseBool("yes", b));
  CHECK(b);
  CHECK(ParseBool("false", b));
  CHECK_FALSE(b);
  CHECK_FALSE(ParseBool("maybe", b));
  CHECK(ParseInt("42") == 42);
  CHECK_FALSE(ParseInt("42x"));
  CHECK_FALSE(ParseInt(""));
}

TEST_CASE("ReadFile refuses files over the limit and names the file") {
  test::TempDir d;
  auto p = d.Write("big", std::string(100, 'x'));
  auto r = ReadFile(p, 10);
  REQUIRE_FALSE(r);
  CHECK(r.error().context == p.string());
  CHECK(r.error().message.find("over the limit") != std::string::npos);
  CHECK(ReadFile(p, 100).value().size() == 100);
  CHECK_FALSE(ReadFile(d / "missing"));
}

TEST_CASE("WriteFileAtomic replaces the file and leaves no temp files") {
  test::TempDir d;
  auto p = d / "state.json";
  REQUIRE(WriteFileAtomic(p, "one"));
  REQUIRE(WriteFileAtomic(p, "two"));
  CHECK(ReadFile(p).value() == "two");
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(d.path())) ++n;
  CHECK(n == 1);
  CHECK_FALSE(WriteFileAtomic(d / "no/such/dir/file", "x"));
}

#include "util/file_lock.hpp"

TEST_CASE("a file lock is exclusive until released") {
  test::TempDir d;
  auto path = (d / "podcd.lock").string();
  {
    auto a = FileLock::TryAcquire(path);
    REQUIRE(a);
    auto b = FileLock::TryAcquire(path);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == ErrorCode::kAlreadyExists);
  }
  CHECK(FileLock::TryAcquire(path));
  CHECK_FALSE(FileLock::TryAcquire((d / "no/such/dir/lock").string()));
}

TEST_CASE("SplitLines: one entry per line, empty ones kept, no entry after a final newline") {
  using V = std::vector<std::string_view>;
  CHECK(SplitLines("") == V{});
  CHECK(SplitLines("a") == V{"a"});
  CHECK(SplitLines("a\n") == V{"a"});
  CHECK(SplitLines("a\n\nb") == V{"a", "", "b"});
  CHECK(SplitLines("\n") == V{""});
}

TEST_CASE("TrimBlanks takes spaces and tabs only; AsciiLower lowers ASCII letters only") {
  CHECK(podcd::TrimBlanks(" \tchunked\t ") == "chunked");
  CHECK(podcd::TrimBlanks("\r\nx \r") == "\r\nx \r");
  CHECK(podcd::TrimBlanks("   ").empty());
  CHECK(podcd::AsciiLower("Multipart/Form-DATA; Boundary=AbC") == "multipart/form-data; boundary=abc");
  CHECK(podcd::AsciiLower("\xC3\x84Z-9_") == "\xC3\x84z-9_");
}
