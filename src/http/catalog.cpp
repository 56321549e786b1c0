#include "http/catalog.hpp"

#include <algorithm>
#include <filesystem>

#include "util/strings.hpp"

namespace podcd::http {
namespace fs = std::filesystem;

bool DirectoryCatalog::Exists(std::string_view name) {
  if (!IsValidStackName(name)) return false;
  std::error_code ec;
  return fs::is_directory(fs::path(root_) / std::string(name), ec);
}

Expected<std::vector<StackInfo>> DirectoryCatalog::List() {
  std::vector<StackInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    std::error_code ec2;
    std::string name = e.path().filename().string();
    if (!e.is_directory(ec2) || !IsValidStackName(name)) continue;
    StackInfo info;
    info.name = name;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace podcd::http
