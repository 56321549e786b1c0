#include "podman/image_archive.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "util/json.hpp"

namespace podcd::podman {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kMaxMetadata = 4u << 20;  // manifest.json, index.json, PAX headers

struct GzCloser {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};

std::unexpected<Error> Bad(const std::string& why) {
  return Fail(ErrorCode::kInvalidArgument, "not a usable image archive: " + why);
}

std::optional<std::uint64_t> Octal(const unsigned char* p, std::size_t n) {
  if ((p[0] & 0x80) != 0) {  // GNU base-256 for large sizes
    std::uint64_t v = p[0] & 0x7f;
    for (std::size_t i = 1; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return std::nullopt;
  }
  if (!any) return std::nullopt;
  return v;
}

std::string Field(const unsigned char* p, std::size_t n) {
  std::size_t len = 0;
  while (len < n && p[len] != '\0') ++len;
  return {reinterpret_cast<const char*>(p), len};
}

bool HeaderValid(const std::array<unsigned char, kBlock>& h) {
  auto stored = Octal(h.data() + 148, 8);
  if (!stored) return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? std::uint64_t{' '} : std::uint64_t{h[i]};
  return sum == *stored;
}

// The "path" record of a PAX extended header ("<len> path=<value>\n" records).
std::string PaxPath(std::string_view data) {
  while (!data.empty()) {
    const std::size_t space = data.find(' ');
    if (space == std::string_view::npos) break;
    std::size_t len = 0;
    for (char c : data.substr(0, space)) {
      if (c < '0' || c > '9') return "";
      len = len * 10 + static_cast<std::size_t>(c - '0');
    }
    if (len <= space || len > data.size()) return "";
    std::string_view record = data.substr(space + 1, len - space - 1);
    if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
    if (record.starts_with("path=")) return std::string(record.substr(5));
    data.remove_prefix(len);
  }
  return "";
}

void DockerTags(const rapidjson::Document& doc, ImageArchive& out) {
  auto& tags = out.tags;
  if (!doc.IsArray()) return;
  for (const auto& image : doc.GetArray()) {
    if (!image.IsObject()) continue;
    // "<hex>.json" (docker save) or "blobs/sha256/<hex>": the image id is the hex.
    std::string config = json::GetStr(image, "Config");
    if (auto slash = config.rfind('/'); slash != std::string::npos) config.erase(0, slash + 1);
    if (config.ends_with(".json")) config.resize(config.size() - 5);
    if (config.size() == 64) out.ids.push_back(config);
    auto repo_tags = image.FindMember("RepoTags");
    if (repo_tags == image.MemberEnd() || !repo_tags->value.IsArray()) continue;
    for (const auto& t : repo_tags->value.GetArray()) {
      if (t.IsString()) tags.emplace_back(t.GetString(), t.GetStringLength());
    }
  }
}

void OciTags(const rapidjson::Document& doc, std::vector<std::string>& tags) {
  if (!doc.IsObject()) return;
  auto manifests = doc.FindMember("manifests");
  if (manifests == doc.MemberEnd() || !manifests->value.IsArray()) return;
  for (const auto& m : manifests->value.GetArray()) {
    if (!m.IsObject()) continue;
    auto annotations = m.FindMember("annotations");
    if (annotations == m.MemberEnd() || !annotations->value.IsObject()) continue;
    for (const char* key : {"org.opencontainers.image.ref.name", "io.containerd.image.name"}) {
      const std::string name = json::GetStr(annotations->value, key);
      if (!name.empty()) tags.push_back(name);
    }
  }
}

}  // namespace

Expected<ImageArchive> ReadImageArchive(const std::filesystem::path& file) {
  std::unique_ptr<gzFile_s, GzCloser> in(gzopen(file.c_str(), "rb"));
  if (!in) return Fail(ErrorCode::kIo, "cannot open the archive", file.string());
  gzbuffer(in.get(), 128 << 10);
  ImageArchive out;
  bool docker = false;
  bool oci = false;
  std::string long_name;  // from a PAX or GNU long-name header, for the next entry
  std::array<unsigned char, kBlock> h{};
  std::vector<char> skip(64 << 10);
  bool first = true;
  for (;;) {
    const int n = gzread(in.get(), h.data(), kBlock);
    if (first) out.gzip = gzdirect(in.get()) == 0;
    if (n < 0) return Bad("the gzip stream is corrupt");
    if (n == 0) return Bad("it is truncated (the tar archive has no end)");
    if (static_cast<std::size_t>(n) < kBlock) return Bad("it is truncated in a tar header");
    if (std::all_of(h.begin(), h.end(), [](unsigned char c) { return c == 0; })) break;  // end of archive
    if (!HeaderValid(h))
      return first ? Bad("it is not a tar archive (podman save writes one)") : Bad("a tar header is corrupt");
    first = false;
    auto size = Octal(h.data() + 124, 12);
    if (!size) return Bad("a tar header has a bad size");
    const char type = static_cast<char>(h[156]);
    std::string name = Field(h.data(), 100);
    if (Field(h.data() + 257, 5) == "ustar") {
      const std::string prefix = Field(h.data() + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) name = std::exchange(long_name, "");
    while (name.starts_with("./")) name.erase(0, 2);
    const bool metadata =
        type == 'x' || type == 'L' ||
        ((type == '0' || type == '\0') && (name == "manifest.json" || name == "index.json"));
    const std::uint64_t padded = (*size + kBlock - 1) / kBlock * kBlock;
    if (metadata) {
      if (*size > kMaxMetadata) return Bad(name + " is larger than 4 MiB");
      std::string data(static_cast<std::size_t>(padded), '\0');
      const int got = gzread(in.get(), data.data(), static_cast<unsigned>(padded));
      if (got < 0 || static_cast<std::uint64_t>(got) != padded) return Bad("it is truncated in " + name);
      data.resize(static_cast<std::size_t>(*size));
      if (type == 'x') {
        long_name = PaxPath(data);
      } else if (type == 'L') {
        long_name = data.substr(0, data.find('\0'));
      } else {
        rapidjson::Document doc;
        doc.Parse(data.data(), data.size());
        if (doc.HasParseError()) return Bad(name + " is not JSON");
        if (name == "manifest.json") {
          docker = true;
          DockerTags(doc, out);
        } else {
          oci = true;
          OciTags(doc, out.tags);
        }
      }
      continue;
    }
    // Read through (not seek: past the end of a plain file a seek would succeed), so a file
    // cut short is found here.
    for (std::uint64_t left = padded; left > 0;) {
      const auto want = static_cast<unsigned>(std::min<std::uint64_t>(left, skip.size()));
      const int got = gzread(in.get(), skip.data(), want);
      if (got < 0) return Bad("the gzip stream is corrupt");
      if (got == 0) return Bad("it is truncated in " + name);
      left -= static_cast<std::uint64_t>(got);
    }
  }
  if (!docker && !oci) return Bad("it holds no manifest.json (docker-archive) or index.json (oci-archive)");
  out.format = docker ? "docker-archive" : "oci-archive";
  return out;
}

std::string NormalImageRef(std::string_view ref) {
  std::string r(ref);
  const std::size_t slash = r.find('/');
  if (slash == std::string::npos) {
    r = "docker.io/library/" + r;
  } else {
    const std::string first = r.substr(0, slash);
    if (first.find('.') == std::string::npos && first.find(':') == std::string::npos && first != "localhost")
      r = "docker.io/" + r;
  }
  const std::size_t last = r.rfind('/');
  if (r.find('@') == std::string::npos && r.find(':', last) == std::string::npos) r += ":latest";
  return r;
}

}  // namespace podcd::podman
