#include "reconcile/deployed_fields.hpp"

#include <algorithm>
#include <cctype>

#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

constexpr std::size_t kMaxValue = 300;

bool SecretName(std::string_view field) {
  if (!field.starts_with("environment.")) return false;
  std::string name(field.substr(12));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  for (std::string_view word : {"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string ShownValue(std::string_view field, std::string value) {
  if (SecretName(field)) return "***";
  // A map field's own entry counts its keys ("{3}"); each key is a field of its own.
  if (value.size() > 2 && value.front() == '{' && value.back() == '}' &&
      value.find_first_not_of("0123456789", 1) == value.size() - 1) {
    const std::string n = value.substr(1, value.size() - 2);
    return n + (n == "1" ? " entry" : " entries");
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"' &&
      value.find_first_of("\"\\", 1) == value.size() - 1)
    value = value.substr(1, value.size() - 2);
  log::MaskSecrets(value);
  if (value.size() > kMaxValue) {
    std::size_t cut = kMaxValue;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
    value = value.substr(0, cut) + "…";
  }
  return value;
}

DeployedFields ShownFields(const core::Stack& stack) {
  DeployedFields out;
  for (const auto& svc : stack.services) {
    auto& shown = out[svc.name];
    for (const auto& [field, value] : core::Canonicalize(stack, svc)) shown[field] = ShownValue(field, value);
  }
  return out;
}

std::filesystem::path DeployedFieldsPath(const std::filesystem::path& state_dir, std::string_view stack) {
  return state_dir / "deployed" / (std::string(stack) + ".json");
}

Expected<void> WriteDeployed(const std::filesystem::path& state_dir, std::string_view stack,
                             const Deployed& deployed) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Str(w, "pinned_commit", deployed.pinned_commit);
  w.Key("services");
  w.StartObject();
  for (const auto& [service, values] : deployed.services) {
    w.Key(service.data(), static_cast<rapidjson::SizeType>(service.size()));
    w.StartObject();
    for (const auto& [field, value] : values) json::Str(w, field, value);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  const auto path = DeployedFieldsPath(state_dir, stack);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  return WriteFileAtomic(path, std::string_view(buf.GetString(), buf.GetSize()));
}

namespace {

Deployed ReadPath(const std::filesystem::path& path) {
  Deployed out;
  auto doc = json::ReadObjectFile(path);
  if (!doc || !*doc) return out;
  out.pinned_commit = json::GetStr(**doc, "pinned_commit");
  auto services = (*doc)->FindMember("services");
  if (services == (*doc)->MemberEnd() || !services->value.IsObject()) return out;
  for (const auto& svc : services->value.GetObject()) {
    if (!svc.value.IsObject()) continue;
    auto& values = out.services[svc.name.GetString()];
    for (const auto& f : svc.value.GetObject()) {
      if (f.value.IsString()) values[f.name.GetString()] = f.value.GetString();
    }
  }
  return out;
}

}  // namespace

Deployed ReadDeployed(const std::filesystem::path& state_dir, std::string_view stack) {
  return ReadPath(DeployedFieldsPath(state_dir, stack));
}

void RemoveDeployed(const std::filesystem::path& state_dir, std::string_view stack) {
  std::error_code ec;
  std::filesystem::remove(DeployedFieldsPath(state_dir, stack), ec);
}

std::set<std::string> PinnedCommitsInUse(const std::filesystem::path& state_dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir / "deployed", ec)) {
    if (entry.path().extension() != ".json") continue;
    if (auto d = ReadPath(entry.path()); !d.pinned_commit.empty()) out.insert(d.pinned_commit);
  }
  return out;
}

}  // namespace podcd::reconcile
