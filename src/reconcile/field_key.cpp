#include "reconcile/field_key.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "core/plan.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kKeyBytes = 32;

std::string ShortHex(const Sha256Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 6));
}

Expected<std::string> Decode(const std::string& text, const fs::path& file) {
  const std::string_view hex = Trim(text);
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "is not a field hash key (64 hex digits); remove it to have a new one made", file.string());
  };
  if (hex.size() != 2 * kKeyBytes) return bad();
  std::string key;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const char pair[3] = {hex[i], hex[i + 1], '\0'};
    char* end = nullptr;
    const long v = std::strtol(pair, &end, 16);
    if (end != pair + 2) return bad();
    key.push_back(static_cast<char>(v));
  }
  return key;
}

Expected<std::string> Read(const fs::path& file) {
  auto text = ReadFile(file, 4096);
  if (!text) return std::unexpected(text.error());
  return Decode(*text, file);
}

// Writes a new key to a temporary file and links it in place: link() never replaces, so of two
// processes that create a key at once, both end up with the one that was linked first.
Expected<std::string> Create(const fs::path& dir, const fs::path& file) {
  std::array<unsigned char, kKeyBytes> raw{};
  if (::getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size()))
    return Fail(ErrorCode::kInternal, std::string("getrandom: ") + std::strerror(errno), file.string());
  const std::string hex =
      HexEncode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())) + "\n";
  std::string tmp = (dir / ("." + std::string(kFieldKeyFile) + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());  // mode 0600
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("mkstemp: ") + std::strerror(errno), file.string());
  ScopeExit remove_tmp([&] { ::unlink(tmp.c_str()); });
  const bool written =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!written) return Fail(ErrorCode::kIo, std::string("write: ") + std::strerror(err), file.string());
  if (::link(tmp.c_str(), file.c_str()) != 0 && errno != EEXIST)
    return Fail(ErrorCode::kIo, std::string("link: ") + std::strerror(errno), file.string());
  return Read(file);
}

}  // namespace

Expected<std::string> LoadOrCreateFieldKey(const fs::path& state_dir) {
  const fs::path file = state_dir / kFieldKeyFile;
  std::error_code ec;
  if (fs::exists(file, ec)) return Read(file);
  if (state_dir.empty() || !fs::is_directory(state_dir, ec))
    return Fail(ErrorCode::kNotFound, "no state directory for the field hash key", state_dir.string());
  return Create(state_dir, file);
}

std::string FieldKeyId(const HmacSha256Key& key) { return ShortHex(key.Mac("podcd field key id")); }

std::map<std::string, std::string> FieldHashes(const HmacSha256Key& key, const std::string& key_id,
                                               const std::map<std::string, std::string>& fields) {
  // Most of a service's ~100 fields hold the same short value in every service (defaults made
  // explicit): a MAC is 5x an FNV-1a, so each thread remembers those it made, for one key.
  constexpr std::size_t kMaxCachedBody = 128, kMaxCached = 20000;
  thread_local struct {
    std::string key_id;
    std::unordered_map<std::string, std::string> hashes;
  } cache;
  if (cache.key_id != key_id || cache.hashes.size() >= kMaxCached) {
    cache.hashes.clear();
    cache.key_id = key_id;
  }
  std::map<std::string, std::string> out;
  std::string body;
  for (const auto& [name, value] : fields) {
    body.assign(name);
    body.push_back('\0');
    body.append(value);
    if (body.size() > kMaxCachedBody) {
      out.emplace_hint(out.end(), name, ShortHex(key.Mac(body)));
      continue;
    }
    auto [it, made] = cache.hashes.try_emplace(body);
    if (made) it->second = ShortHex(key.Mac(body));
    out.emplace_hint(out.end(), name, it->second);
  }
  out[std::string(core::kFieldKeyId)] = key_id;
  return out;
}

}  // namespace podcd::reconcile
