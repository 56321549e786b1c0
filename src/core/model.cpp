#include "core/model.hpp"

namespace podcd::core {

std::string_view ToString(FileKind kind) {
  switch (kind) {
    case FileKind::kEnvFile: return "env_file";
    case FileKind::kBindFile: return "bind_file";
    case FileKind::kBindDir: return "bind_dir";
    case FileKind::kConfig: return "config";
    case FileKind::kSecret: return "secret";
    case FileKind::kMissing: return "missing";
  }
  return "unknown";
}

const Service* Stack::Find(std::string_view service) const {
  for (const auto& s : services) {
    if (s.name == service) return &s;
  }
  return nullptr;
}

}  // namespace podcd::core
