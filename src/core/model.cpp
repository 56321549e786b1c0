#include "core/model.hpp"

#include <algorithm>

namespace podcd::core {

std::string_view ToString(FileKind kind) {
  switch (kind) {
    case FileKind::kEnvFile: return "env_file";
    case FileKind::kBindFile: return "bind_file";
    case FileKind::kBindDir: return "bind_dir";
    case FileKind::kConfig: return "config";
    case FileKind::kSecret: return "secret";
    case FileKind::kBuildContext: return "build_context";
    case FileKind::kMissing: return "missing";
    case FileKind::kCompose: return "compose";
  }
  return "unknown";
}

std::vector<std::string> Service::NamespaceServices() const {
  std::vector<std::string> out;
  for (const std::string* mode : {&network_mode, &pid, &ipc}) {
    if (!mode->starts_with("service:")) continue;
    std::string target = mode->substr(8);
    if (std::find(out.begin(), out.end(), target) == out.end()) out.push_back(std::move(target));
  }
  return out;
}

const Service* Stack::Find(std::string_view service) const {
  for (const auto& s : services) {
    if (s.name == service) return &s;
  }
  return nullptr;
}

}  // namespace podcd::core
