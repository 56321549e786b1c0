#include "util/tar.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

namespace podcd {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBlock = 512;

// width - 1 octal digits and a NUL, as ustar wants (sizes up to 8 GiB fit in 11 digits).
void Octal(char* field, std::size_t width, std::uint64_t value) {
  for (std::size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
  field[width - 1] = '\0';
}

// ustar: the name in 100 bytes, or a prefix of up to 155 bytes and a name of up to 100 split
// at a '/'.
bool SplitName(const std::string& path, std::string& prefix, std::string& name) {
  if (path.size() <= 100) {
    prefix.clear();
    name = path;
    return true;
  }
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

Expected<void> Header(std::string& out, const std::string& path, char type, std::uint64_t size,
                      const struct stat& st, const std::string& link) {
  std::string prefix, name;
  if (!SplitName(path, prefix, name)) {
    return Fail(ErrorCode::kInvalidArgument, "path too long for a tar archive (ustar)", path);
  }
  if (link.size() > 100) return Fail(ErrorCode::kInvalidArgument, "symlink target too long for ustar", path);
  std::array<char, kBlock> h{};
  std::memcpy(h.data(), name.data(), name.size());
  Octal(h.data() + 100, 8, st.st_mode & 07777);
  Octal(h.data() + 108, 8, 0);  // uid
  Octal(h.data() + 116, 8, 0);  // gid
  Octal(h.data() + 124, 12, size);
  Octal(h.data() + 136, 12, static_cast<std::uint64_t>(std::max<time_t>(st.st_mtime, 0)));
  std::memset(h.data() + 148, ' ', 8);  // checksum, computed over these spaces
  h[156] = type;
  std::memcpy(h.data() + 157, link.data(), link.size());
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::memcpy(h.data() + 265, "root", 4);  // uname
  std::memcpy(h.data() + 297, "root", 4);  // gname
  std::memcpy(h.data() + 345, prefix.data(), prefix.size());
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  Octal(h.data() + 148, 7, sum);  // six digits, a NUL, then the space already there

  out.append(h.data(), h.size());
  return {};
}

}  // namespace

Expected<std::string> TarDirectory(const fs::path& dir, const TarOptions& options) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(dir);
    if (it.depth() == 0 && std::find(options.skip_top.begin(), options.skip_top.end(),
                                     rel.generic_string()) != options.skip_top.end()) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    if (options.ignore != nullptr && options.ignore->LeavesOut(rel.generic_string(), options.keep)) {
      if (it->is_directory(ec) && !it->is_symlink(ec) &&
          options.ignore->SkipsWhole(rel.generic_string(), options.keep))
        it.disable_recursion_pending();
      continue;
    }
    entries.push_back(rel);
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list the directory: " + ec.message(), dir.string());
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& rel : entries) {
    const fs::path abs = dir / rel;
    const std::string path = rel.generic_string();
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) return Fail(ErrorCode::kIo, std::strerror(errno), abs.string());
    if (S_ISDIR(st.st_mode)) {
      if (auto r = Header(out, path + "/", '5', 0, st, ""); !r) return std::unexpected(r.error());
    } else if (S_ISLNK(st.st_mode)) {
      auto target = fs::read_symlink(abs, ec);
      if (ec) return Fail(ErrorCode::kIo, "cannot read the symlink: " + ec.message(), abs.string());
      if (auto r = Header(out, path, '2', 0, st, target.string()); !r) return std::unexpected(r.error());
    } else if (S_ISREG(st.st_mode)) {
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (out.size() + size + 2 * kBlock > options.max_bytes) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the directory holds more than " + std::to_string(options.max_bytes >> 20) + " MiB",
                    dir.string());
      }
      if (auto r = Header(out, path, '0', size, st, ""); !r) return std::unexpected(r.error());
      std::ifstream in(abs, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) return Fail(ErrorCode::kIo, "cannot read the file", abs.string());
      if (data.size() != size)
        return Fail(ErrorCode::kIo, "the file changed while it was read", abs.string());
      out += data;
      out.append((kBlock - size % kBlock) % kBlock, '\0');
    } else {
      return Fail(ErrorCode::kInvalidArgument, "not a regular file, directory or symlink", abs.string());
    }
  }
  out.append(2 * kBlock, '\0');
  return out;
}

}  // namespace podcd
