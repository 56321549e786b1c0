#include "state/controls.hpp"

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::state;

namespace {
Expected<void> Suspend(StackControl& c, const std::string& by, const std::string& note = "") {
  c.suspended = Suspension{by, 1764684000000, note};
  return {};
}
}  // namespace

TEST_CASE("stack controls: a missing file is no controls") {
  test::TempDir dir;
  auto c = ReadStackControls(StackControlsPath(dir.path()));
  REQUIRE(c);
  CHECK(c->empty());
}

TEST_CASE("stack controls: round trip through the file, mode 0600, kept by a new reader") {
  test::TempDir dir;
  const auto path = StackControlsPath(dir.path());
  {
    StackControlsFile file(path);
    REQUIRE(file.Update("web", [](StackControl& c) { return Suspend(c, "user:alice", "disk \"full\"\n"); }));
    auto pinned = file.Update("db", [](StackControl& c) -> Expected<void> {
      c.pinned = Pin{"20261202-140000-000001", "0123456789abcdef0123456789abcdef01234567", "api-token", 5};
      return {};
    });
    REQUIRE(pinned);
    CHECK(pinned->pinned->deployment == "20261202-140000-000001");
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // A restart: another object, another reader.
  StackControlsFile again(path);
  auto all = again.Read();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK(all->at("web").suspended->by == "user:alice");
  CHECK(all->at("web").suspended->note == "disk \"full\"\n");
  CHECK(all->at("web").suspended->at_ms == 1764684000000);
  CHECK_FALSE(all->at("web").pinned);
  CHECK(all->at("db").pinned->commit == "0123456789abcdef0123456789abcdef01234567");
  CHECK(all->at("db").pinned->by == "api-token");
  CHECK_FALSE(all->at("db").suspended);
  CHECK(DescribeSuspension(*all->at("web").suspended).starts_with("suspended by user:alice at 2025-12-02T"));
}

TEST_CASE("stack controls: clearing a stack's last control removes its entry") {
  test::TempDir dir;
  StackControlsFile file(StackControlsPath(dir.path()));
  REQUIRE(file.Update("web", [](StackControl& c) { return Suspend(c, "loopback"); }));
  auto after = file.Update("web", [](StackControl& c) -> Expected<void> {
    c.suspended.reset();
    return {};
  });
  REQUIRE(after);
  CHECK(after->Empty());
  auto text = ReadFile(file.Path());
  REQUIRE(text);
  CHECK(text->find("web") == std::string::npos);
}

TEST_CASE("stack controls: a refused change leaves the file as it was") {
  test::TempDir dir;
  StackControlsFile file(StackControlsPath(dir.path()));
  REQUIRE(file.Update("web", [](StackControl& c) { return Suspend(c, "loopback"); }));
  auto r = file.Update("web", [](StackControl& c) -> Expected<void> {
    c.suspended.reset();
    return Fail(ErrorCode::kInvalidArgument, "no");
  });
  REQUIRE_FALSE(r);
  auto all = file.Read();
  REQUIRE(all);
  CHECK(all->at("web").suspended);
}

TEST_CASE("stack controls: a damaged file is an error naming it, never an empty set") {
  test::TempDir dir;
  const auto path = StackControlsPath(dir.path());
  for (const char* text :
       {"{\"version\":1,\"stacks\":{\"web\":{\"suspended\":{\"by\":\"x\"", "[]", "", "{\"stacks\":{}}",
        "{\"version\":1,\"stacks\":{\"Bad Name\":{}}}",
        "{\"version\":1,\"stacks\":{\"web\":{\"suspended\":{\"by\":7,\"at_ms\":1}}}}",
        "{\"version\":1,\"stacks\":{\"web\":{\"pinned\":{\"deployment\":\"d\",\"by\":\"x\","
        "\"at_ms\":1}}}}"}) {
    INFO(text);
    dir.Write("stack-controls.json", text);
    auto r = ReadStackControls(path);
    REQUIRE_FALSE(r);
    CHECK(r.error().What().find(path.string()) != std::string::npos);
    // An update does not overwrite it either.
    StackControlsFile file(path);
    CHECK_FALSE(file.Update("web", [](StackControl& c) { return Suspend(c, "loopback"); }));
    CHECK(*ReadFile(path) == text);
  }
}

TEST_CASE("stack controls: concurrent writers lose no change") {
  test::TempDir dir;
  const auto path = StackControlsPath(dir.path());
  StackControlsFile shared(path);
  std::atomic<int> failures{0};  // Catch's REQUIRE is not for other threads
  std::vector<std::jthread> threads;
  constexpr int kThreads = 8;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half write through the shared object, half through objects of their own (as another
      // process would: only the file lock keeps them apart).
      StackControlsFile own(path);
      StackControlsFile& file = t % 2 == 0 ? shared : own;
      for (int i = 0; i < 5; ++i) {
        const std::string stack = "s" + std::to_string(t) + "-" + std::to_string(i);
        if (!file.Update(stack, [](StackControl& c) { return Suspend(c, "loopback"); })) ++failures;
      }
    });
  }
  threads.clear();
  CHECK(failures == 0);
  auto all = ReadStackControls(path);
  REQUIRE(all);
  CHECK(all->size() == kThreads * 5);
}

TEST_CASE("stack controls: the API's JSON") {
  StackControl c;
  CHECK(StackControlJson("web", c) == R"({"stack":"web","state":"active","suspended":null,"pinned":null})");
  c.pinned = Pin{"d1", "abc", "loopback", 0};
  CHECK(StackControlJson("web", c).find(R"("state":"pinned")") != std::string::npos);
  c.suspended = Suspension{"loopback", 0, ""};
  CHECK(StackControlJson("web", c).find(R"("state":"suspended")") != std::string::npos);
}

TEST_CASE("stack controls: ill-formed UTF-8 reads as it writes back; a pin names ids only") {
  // Found by the state fuzzer: the writer repairs ill-formed UTF-8, so the reader must too, or a
  // file read and written again holds other controls than the ones read.
  const std::string text = std::string(R"({"version":1,"stacks":{"web":{"suspended":{"by":"user:al)") +
                           "\xC3\x28" + R"(ice","at_ms":1,"note":"disk )" + "\xFF" + R"("}}}})";
  auto read = DecodeStackControls(text, "stack-controls.json");
  REQUIRE(read.has_value());
  auto again = DecodeStackControls(EncodeStackControls(*read), "stack-controls.json");
  REQUIRE(again.has_value());
  CHECK(*again == *read);
  const std::string bad_pin = std::string(R"({"version":1,"stacks":{"web":{"pinned":{"deployment":"2026)") +
                              "\xFF" + R"(","commit":"0123abcd","by":"x","at_ms":1}}}})";
  auto refused = DecodeStackControls(bad_pin, "stack-controls.json");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().What().find("stack-controls.json") != std::string::npos);
}
