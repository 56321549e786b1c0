#include "core/model.hpp"

namespace podcd::core {

bool IsValidStackName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  for (char c : name) {
    if (!lower_or_digit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

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
