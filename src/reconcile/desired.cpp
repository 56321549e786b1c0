#include "reconcile/desired.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>

#include "compose/loader.hpp"
#include "core/fingerprint.hpp"
#include "core/policy.hpp"
#include "git/ignore.hpp"

namespace podcd::reconcile {
namespace {

namespace fs = std::filesystem;

// Short hash of one canonical field, only to name what changed in a plan's reasons (the
// decision to recreate is the sha256 fingerprint's). FNV-1a: a service has ~100 fields, and
// a sha256 for each was a fifth of a 500-stack plan.
std::string ShortHash(const std::string& value) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : value) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

}  // namespace

const core::DesiredStack* DesiredState::Find(std::string_view stack) const {
  for (const auto& s : stacks) {
    if (s.name == stack) return &s;
  }
  return nullptr;
}

Expected<DesiredState> LoadDesired(const config::Config& config) {
  const fs::path root = config.repo.path;
  auto found = compose::DiscoverStacks(root, config.repo.services_dir);
  if (!found) return std::unexpected(found.error());

  compose::LoadOptions opts;
  opts.repo_root = root;
  fs::path secrets = config.repo.secrets_dir;
  opts.secrets_dir = secrets.is_absolute() ? secrets : root / secrets;
  opts.host_env = compose::HostEnv(compose::kDefaultEnvAllowList);
  // What git ignores (data directories a stack bind-mounts) is state, not spec: never
  // fingerprinted. The rules answer for paths that do not exist yet, so a data directory
  // appearing after the first deployment changes nothing.
  if (auto rules = git::IgnoreRules::Open(config.repo.path)) {
    auto shared = std::make_shared<git::IgnoreRules>(std::move(*rules));
    opts.is_ignored = [shared](std::string_view rel) { return shared->IsIgnored(rel); };
  }
  core::PolicySettings policy{config.policy.allowed_bind_roots, config.policy.allow, config.podman.socket};

  DesiredState out;
  for (const auto& [name, err] : found->errors) {
    out.stacks.push_back({name, core::StackStatus::kInvalid, {err.What()}, {}});
  }
  for (const auto& dir : found->stacks) {
    core::DesiredStack d;
    d.name = dir.name;
    auto loaded = compose::LoadStack(dir, opts);
    if (!loaded) {
      d.status = core::StackStatus::kInvalid;
      for (const auto& e : loaded.error()) d.problems.push_back(e.What());
      out.stacks.push_back(std::move(d));
      continue;
    }
    // Podcd names the project after the directory so that labels, names and the API agree.
    loaded->name = dir.name;
    auto violations = core::CheckPolicy(*loaded, policy);
    if (!violations.empty()) {
      d.status = core::StackStatus::kRefused;
      for (const auto& v : violations) d.problems.push_back(v.reason);
      out.stacks.push_back(std::move(d));
      continue;
    }
    for (const auto& s : loaded->services) {
      core::DesiredService ds;
      ds.name = s.name;
      auto fields = core::Canonicalize(*loaded, s);
      ds.fingerprint = core::Fingerprint(fields);
      for (const auto& [k, v] : fields) ds.field_hashes[k] = ShortHash(v);
      for (const auto& [dep, cond] : s.depends_on) {
        if (cond.restart) ds.recreate_with.push_back(dep);
      }
      for (auto& target : s.NamespaceServices()) ds.recreate_with.push_back(std::move(target));
      ds.restart = s.restart;
      d.services.push_back(std::move(ds));
    }
    out.models.emplace(dir.name, std::move(*loaded));
    out.stacks.push_back(std::move(d));
  }
  return out;
}

}  // namespace podcd::reconcile
