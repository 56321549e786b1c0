// The uploads record (<state_dir>/uploads.json): what the uploaded-image rule reads.
#include "state/uploads.hpp"

#include <catch2/catch.hpp>
#include <fstream>

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
