#include "state/image_ledger.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::state;

namespace {
std::vector<std::string> Ids(const ImageLedger& l, const std::string& stack, const std::string& service) {
  std::vector<std::string> out;
  for (const auto& i : l.at(stack).at(service)) out.push_back(i.id);
  return out;
}
}  // namespace

TEST_CASE("image ledger: a missing file is empty; a round trip keeps every field and the order") {
  test::TempDir dir;
  const auto path = ImageLedgerPath(dir.path());
  auto empty = ReadImageLedger(path);
  REQUIRE(empty);
  CHECK(empty->empty());

  ImageLedgerFile file(path);
  REQUIRE(file.Update([](ImageLedger& l) {
    AddBrought(l, "web", "app", {"bbb", "built", {"localhost/podcd-build/web_app:1"}, 10, 0});
    AddBrought(l, "web", "app", {"aaa", "pulled", {"reg/app:2"}, 20, 0});
    AddBrought(l, "db", "pg", {"ccc", "loaded", {}, 30, 0});
  }));
  auto read = file.Read();
  REQUIRE(read);
  CHECK(Ids(*read, "web", "app") == std::vector<std::string>{"bbb", "aaa"});
  CHECK(read->at("web").at("app").front() ==
        BroughtImage{"bbb", "built", {"localhost/podcd-build/web_app:1"}, 10, 0});
  CHECK(read->at("db").at("pg").front().how == "loaded");
  CHECK(EncodeImageLedger(*read) == EncodeImageLedger(*DecodeImageLedger(EncodeImageLedger(*read), "x")));
}

TEST_CASE(
    "image ledger: used moves an image last; brought again merges its names; forget drops empty lists") {
  ImageLedger l;
  AddBrought(l, "web", "app", {"a", "pulled", {"r/app:1"}, 1, 0});
  AddBrought(l, "web", "app", {"b", "pulled", {"r/app:2"}, 2, 0});
  CHECK(MarkUsed(l, "web", "app", "a", 50));
  CHECK(Ids(l, "web", "app") == std::vector<std::string>{"b", "a"});
  CHECK(l["web"]["app"].back().used_ms == 50);
  CHECK_FALSE(MarkUsed(l, "web", "app", "not-ours", 60));
  CHECK_FALSE(MarkUsed(l, "other", "app", "a", 60));

  AddBrought(l, "web", "app", {"b", "pulled", {"r/app:latest"}, 3, 0});
  CHECK(Ids(l, "web", "app") == std::vector<std::string>{"a", "b"});
  CHECK(l["web"]["app"].back().tags == std::vector<std::string>{"r/app:latest", "r/app:2"});

  AddBrought(l, "db", "pg", {"b", "pulled", {}, 4, 0});
  Forget(l, "b");
  CHECK(Ids(l, "web", "app") == std::vector<std::string>{"a"});
  CHECK_FALSE(l.contains("db"));
}

TEST_CASE("image ledger: a damaged file is an error naming it, never an empty ledger") {
  test::TempDir dir;
  const auto path = ImageLedgerPath(dir.path());
  for (const std::string text :
       {"{", "{\"version\":2,\"stacks\":{}}", "{\"version\":1,\"stacks\":{\"Bad Name\":{}}}",
        "{\"version\":1,\"stacks\":{\"web\":{\"app\":[{\"id\":\"a\",\"how\":\"stolen\"}]}}}",
        "{\"version\":1,\"stacks\":{\"web\":{\"app\":[{\"how\":\"pulled\"}]}}}"}) {
    std::ofstream(path) << text;
    auto r = ReadImageLedger(path);
    INFO(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().What().find(path.string()) != std::string::npos);
  }
}

TEST_CASE("image ledger: RecordBrought from many threads loses nothing") {
  test::TempDir dir;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        REQUIRE(
            RecordBrought(dir.path(), "web", "s" + std::to_string(t), "id" + std::to_string(i), "loaded"));
    });
  }
  for (auto& th : threads) th.join();
  auto read = ReadImageLedger(ImageLedgerPath(dir.path()));
  REQUIRE(read);
  for (int t = 0; t < 4; ++t) CHECK(read->at("web").at("s" + std::to_string(t)).size() == 10);
  CHECK_FALSE(RecordBrought(dir.path(), "web", "app", "x", "stolen"));
  CHECK_FALSE(RecordBrought(dir.path(), "Bad Name", "app", "x", "loaded"));
}
