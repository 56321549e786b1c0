// The uploads record (<state_dir>/uploads.json): what the uploaded-image rule reads.
#include "state/uploads.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::state;

TEST_CASE("uploads: recorded per stack, replaced by image, read back") {
  test::TempDir dir;
  const auto file = UploadsPath(dir.path());
  auto empty = ReadUploads(file);
  REQUIRE(empty);
  CHECK(empty->empty());
  REQUIRE(RecordUpload(file, "web", {"localhost/app:1", "aaa", {"aaa"}, "d1", "api-token", 1}));
  REQUIRE(RecordUpload(file, "web", {"localhost/side:1", "bbb", {}, "d1", "api-token", 2}));
  REQUIRE(RecordUpload(file, "api", {"localhost/api:2", "ccc", {"ccc"}, "d2", "loopback", 3}));
  REQUIRE(RecordUpload(file, "web", {"localhost/app:1", "ddd", {"ddd"}, "d3", "api-token", 4}));
  auto u = ReadUploads(file);
  REQUIRE(u);
  CHECK(UploadedImages(*u, "web") == std::set<std::string>{"localhost/app:1", "localhost/side:1"});
  CHECK(UploadedImages(*u, "db").empty());
  REQUIRE(u->at("web").size() == 2);
  CHECK(u->at("web").back() == UploadedImage{"localhost/app:1", "ddd", {"ddd"}, "d3", "api-token", 4});
  CHECK(AddedImageIds(*u, "web") == std::vector<std::string>{"ddd"});
  CHECK(AddedImageIds(*u, "api") == std::vector<std::string>{"ccc"});
}

TEST_CASE("uploads: a damaged record is an error naming the file") {
  test::TempDir dir;
  const auto file = UploadsPath(dir.path());
  std::ofstream(file) << "{not json";
  auto u = ReadUploads(file);
  REQUIRE_FALSE(u);
  CHECK(u.error().What().find("uploads.json") != std::string::npos);
  std::ofstream(file) << R"({"version":1,"stacks":{"web":[{"id":"x"}]}})";
  CHECK_FALSE(ReadUploads(file));
}

// The daemon loads up to four uploads at once, each recording its image when it is loaded: two
// read-change-writes side by side lost one of the records (the other stack's image then lost
// the uploaded-image rule, and a deploy pulled over it).
TEST_CASE("uploads: records made at the same time are all kept") {
  test::TempDir dir;
  const auto file = UploadsPath(dir.path());
  constexpr int kWriters = 6;
  constexpr int kEach = 15;
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      const std::string stack = "stack" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) {
        const std::string image = "localhost/app" + std::to_string(i) + ":1";
        CHECK(RecordUpload(file, stack, {image, "id", {}, "d", "api-token", i}));
      }
    });
  }
  for (auto& w : writers) w.join();
  auto u = ReadUploads(file);
  REQUIRE(u);
  for (int t = 0; t < kWriters; ++t) {
    INFO("stack" << t);
    CHECK(UploadedImages(*u, "stack" + std::to_string(t)).size() == kEach);
  }
}

TEST_CASE("uploads: a stack name that is not one is an error naming the file and the stack") {
  test::TempDir dir;
  const auto file = UploadsPath(dir.path());
  std::ofstream(file) << R"({"version":1,"stacks":{"../x":[]}})";
  auto u = ReadUploads(file);
  REQUIRE_FALSE(u);
  CHECK(u.error().What().find("uploads.json: stack \"../x\"") != std::string::npos);
}
