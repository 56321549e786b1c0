// Image archives read without loading them: tags of docker- and oci-archives, plain or gzip;
// truncated, corrupt and non-tar files refused with a reason.
#include "podman/image_archive.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::podman;

namespace {

// One ustar entry: header (checksum computed) and data padded to 512 bytes.
std::string Entry(const std::string& name, const std::string& data, char type = '0') {
  std::string h(512, '\0');
  name.copy(h.data(), std::min<std::size_t>(name.size(), 100));
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 124, 12, "%011o", static_cast<unsigned>(data.size()));
  std::snprintf(h.data() + 136, 12, "%011o", 0u);
  h[156] = type;
  std::string("ustar").copy(h.data() + 257, 5);
  h[263] = '0';
  h[264] = '0';
  std::fill(h.begin() + 148, h.begin() + 156, ' ');
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  std::string padded = data;
  padded.resize((data.size() + 511) / 512 * 512, '\0');
  return h + padded;
}

std::string End() { return std::string(1024, '\0'); }

std::filesystem::path Write(const test::TempDir& dir, const std::string& name, const std::string& bytes) {
  auto path = dir.path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

const std::string kHex(64, 'a');
const std::string kDocker =
    Entry(kHex + ".json", "{}") + Entry("layer.tar", std::string(3000, 'x')) +
    Entry("manifest.json", R"([{"Config":")" + kHex +
                               R"(.json","RepoTags":["localhost/app:1","app:2"],"Layers":["layer.tar"]}])") +
    End();

}  // namespace

TEST_CASE("image archive: a docker-archive's tags and image id, plain and gzip") {
  test::TempDir dir;
  auto plain = ReadImageArchive(Write(dir, "a.tar", kDocker));
  REQUIRE(plain);
  CHECK(plain->format == "docker-archive");
  CHECK_FALSE(plain->gzip);
  CHECK(plain->tags == std::vector<std::string>{"localhost/app:1", "app:2"});
  CHECK(plain->ids == std::vector<std::string>{kHex});
  const auto tar = Write(dir, "b.tar", kDocker);
  REQUIRE(std::system(("gzip -k " + tar.string()).c_str()) == 0);
  auto gz = ReadImageArchive(dir.path() / "b.tar.gz");
  REQUIRE(gz);
  CHECK(gz->gzip);
  CHECK(gz->tags == plain->tags);
}

TEST_CASE("image archive: an oci-archive's ref.name annotations") {
  test::TempDir dir;
  const std::string oci =
      Entry("oci-layout", R"({"imageLayoutVersion":"1.0.0"})") +
      Entry(
          "index.json",
          R"({"schemaVersion":2,"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"localhost/app:3"}}]})") +
      End();
  auto a = ReadImageArchive(Write(dir, "o.tar", oci));
  REQUIRE(a);
  CHECK(a->format == "oci-archive");
  CHECK(a->tags == std::vector<std::string>{"localhost/app:3"});
  CHECK(a->ids.empty());
}

TEST_CASE("image archive: truncated, corrupt, non-tar and manifest-less files are refused") {
  test::TempDir dir;
  auto why = [&](const std::string& bytes) {
    auto a = ReadImageArchive(Write(dir, "x", bytes));
    return a ? std::string("accepted") : a.error().message;
  };
  CHECK(why(std::string(5000, 'j')).find("not a tar archive") != std::string::npos);
  CHECK(why(kDocker.substr(0, 1500)).find("truncated") != std::string::npos);  // in the layer's data
  CHECK(why(kDocker.substr(0, kDocker.size() - 1024)).find("truncated") != std::string::npos);  // no end
  CHECK(why(kDocker.substr(0, 700)).find("truncated") != std::string::npos);                    // in a header
  std::string corrupt = kDocker;
  corrupt[512 + 512 + 10] ^= 0x55;  // the second header's name: its checksum no longer holds
  CHECK(why(corrupt).find("a tar header is corrupt") != std::string::npos);
  CHECK(why(Entry("hello.txt", "hi") + End()).find("no manifest.json") != std::string::npos);
  CHECK(why(Entry("manifest.json", "{not json") + End()).find("manifest.json is not JSON") !=
        std::string::npos);
}

TEST_CASE("image archive: references compare in Podman's normal form") {
  CHECK(NormalImageRef("app") == "docker.io/library/app:latest");
  CHECK(NormalImageRef("app:1") == "docker.io/library/app:1");
  CHECK(NormalImageRef("org/app:1") == "docker.io/org/app:1");
  CHECK(NormalImageRef("localhost/app") == "localhost/app:latest");
  CHECK(NormalImageRef("127.0.0.1:5000/app:1") == "127.0.0.1:5000/app:1");
  CHECK(NormalImageRef("registry.example.net:5000/a/b") == "registry.example.net:5000/a/b:latest");
  CHECK(NormalImageRef("docker.io/library/app:1") == "docker.io/library/app:1");
  CHECK(NormalImageRef("app@sha256:abc") == "docker.io/library/app@sha256:abc");
}
