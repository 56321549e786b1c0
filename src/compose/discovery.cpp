#include "compose/loader_internal.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace podcd::compose {

Expected<Discovery> DiscoverStacks(const fs::path& repo_root, std::string_view services_dir) {
  fs::path dir = repo_root / services_dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kNotFound, "the services directory does not exist", dir.string());
  }
  Discovery out;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (!IsValidStackName(name)) {
      out.errors.emplace_back(name,
                              Error{ErrorCode::kInvalidArgument,
                                    "invalid stack directory name (must match ^[a-z0-9][a-z0-9_.-]{0,62}$)",
                                    it->path().string()});
      continue;
    }
    std::vector<fs::path> found;
    for (auto f : kComposeFileNames) {
      fs::path p = it->path() / f;
      if (fs::exists(fs::symlink_status(p, ec))) found.push_back(p);
    }
    if (found.empty()) {
      out.errors.emplace_back(name, Error{ErrorCode::kNotFound,
                                          "no compose file (compose.yaml, compose.yml, "
                                          "podman-compose.yml or docker-compose.yml)",
                                          it->path().string()});
      continue;
    }
    if (found.size() > 1) {
      std::string list;
      for (const auto& f : found) list += (list.empty() ? "" : ", ") + f.filename().string();
      out.errors.emplace_back(name, Error{ErrorCode::kInvalidArgument, "more than one compose file: " + list,
                                          it->path().string()});
      continue;
    }
    out.stacks.push_back(StackDir{name, fs::absolute(it->path()), fs::absolute(found.front())});
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list the services directory: " + ec.message(), dir.string());
  std::sort(out.stacks.begin(), out.stacks.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(out.errors.begin(), out.errors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace podcd::compose
