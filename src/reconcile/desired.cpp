#include "reconcile/desired.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "compose/loader.hpp"
#include "core/fingerprint.hpp"
#include "core/policy.hpp"
#include "git/ignore.hpp"
#include "reconcile/field_key.hpp"
#include "util/guarded.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

namespace fs = std::filesystem;

// The label's field hashes are keyed (field_key.hpp). Without a state directory to keep the
// key in (`podcd plan` or `check-config` by a user who cannot write there), a key of this
// process only: its hashes match no label, so reasons say "fingerprint changed" and no
// unkeyed digest of a value is ever written.
struct Keying {
  HmacSha256Key key;
  std::string id;
};

Keying KeyingFor(const config::Config& config) {
  auto key = LoadOrCreateFieldKey(config.state_dir);
  if (!key) {
    log::Debug("field hashes keyed for this process only", {{"error", key.error().What()}});
    static const std::string kProcessKey = [] {
      std::random_device random;
      std::string k;
      for (int i = 0; i < 8; ++i) k += std::to_string(random()) + "/";
      return k;
    }();
    key = kProcessKey;
  }
  HmacSha256Key k(*key);
  std::string id = FieldKeyId(k);
  return {std::move(k), std::move(id)};
}

// Values from the secrets directory are masked wherever podcd writes text (log lines, worker
// events, records, plan output), each line of a multi-line one too (a PEM). Shorter values are
// not: "1", "true" or a port would turn every occurrence in every line into "***".
constexpr std::size_t kMinMaskedBytes = 6;
void MaskSecretValue(std::string_view value) {
  auto add = [](std::string_view v) {
    v = Trim(v);
    if (v.size() >= kMinMaskedBytes) log::AddSecret(std::string(v));
  };
  add(value);
  for (auto line : SplitLines(value)) add(line);
}

// One stack: load, policy, fingerprints. Pure of shared state but `opts` and `policy`, so
// stacks load in parallel.
struct LoadedStack {
  core::DesiredStack desired;
  std::optional<core::Stack> model;
};

// A pinned stack's binds: what the container only reads (a config file) comes from the pinned
// tree; what it may write (a data directory), and what the tree does not hold (git-ignored or
// untracked paths), is the work tree's, so the stack keeps its data.
void BindsToWorkTree(core::Stack& stack, const fs::path& tree, const fs::path& work_tree) {
  for (auto& svc : stack.services) {
    for (auto& m : svc.volumes) {
      if (m.type != core::MountType::kBind || m.repo_path.empty()) continue;
      std::error_code ec;
      if (!m.read_only || !fs::exists(fs::symlink_status(tree / m.repo_path, ec)))
        m.source = (work_tree / m.repo_path).string();
    }
  }
}

LoadedStack LoadOne(const compose::StackDir& dir, const compose::LoadOptions& opts,
                    const core::PolicySettings& policy, const Keying& keying, const fs::path& work_tree) {
  LoadedStack out;
  core::DesiredStack& d = out.desired;
  d.name = dir.name;
  auto loaded = compose::LoadStack(dir, opts);
  if (!loaded) {
    d.status = core::StackStatus::kInvalid;
    for (const auto& e : loaded.error()) d.problems.push_back(e.What());
    return out;
  }
  // Podcd names the project after the directory so that labels, names and the API agree.
  loaded->name = dir.name;
  if (opts.repo_root != work_tree) BindsToWorkTree(*loaded, opts.repo_root, work_tree);
  auto violations = core::CheckPolicy(*loaded, policy);
  if (!violations.empty()) {
    d.status = core::StackStatus::kRefused;
    for (const auto& v : violations) d.problems.push_back(v.reason);
    return out;
  }
  for (const auto& s : loaded->services) {
    core::DesiredService ds;
    ds.name = s.name;
    auto fields = core::Canonicalize(*loaded, s);
    ds.fingerprint = core::Fingerprint(fields);
    ds.field_hashes = FieldHashes(keying.key, keying.id, fields);
    for (const auto& [dep, cond] : s.depends_on) {
      if (cond.restart) ds.recreate_with.push_back(dep);
    }
    for (auto& target : s.NamespaceServices()) ds.recreate_with.push_back(std::move(target));
    ds.restart = s.restart;
    d.services.push_back(std::move(ds));
  }
  d.disabled = loaded->disabled;
  d.notes = loaded->notes;
  out.model = std::move(*loaded);
  return out;
}

// Loading is CPU-bound (YAML, hashing) and each stack stands alone: a few threads take the
// stacks in turn. Below kParallelFrom stacks a thread costs more than it saves.
std::vector<LoadedStack> LoadAll(const std::vector<compose::StackDir>& dirs,
                                 const std::vector<const compose::LoadOptions*>& opts,
                                 const core::PolicySettings& policy, const Keying& keying,
                                 const fs::path& work_tree) {
  constexpr std::size_t kParallelFrom = 8;
  constexpr unsigned kMaxThreads = 8;
  std::vector<LoadedStack> out(dirs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < dirs.size(); i = next++)
      out[i] = LoadOne(dirs[i], *opts[i], policy, keying, work_tree);
  };
  const unsigned cores = std::max(1u, std::min(kMaxThreads, std::thread::hardware_concurrency()));
  const std::size_t threads = dirs.size() < kParallelFrom ? 1 : std::min<std::size_t>(cores, dirs.size());
  std::vector<std::jthread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  return out;
}

// The stacks to load and the options each loads with, in the same order.
struct StackLoads {
  std::vector<compose::StackDir> dirs;
  std::vector<const compose::LoadOptions*> opts;
};

// A pinned stack loads from its pinned commit's tree (options kept in `pinned_opts`, which must
// outlive the load); a pinned stack that tree lacks is reported invalid in `out` and left out.
StackLoads ResolvePins(std::vector<compose::StackDir> found, const compose::LoadOptions& opts,
                       const std::map<std::string, std::filesystem::path>& pinned,
                       const std::string& services_dir, std::map<fs::path, compose::LoadOptions>& pinned_opts,
                       DesiredState& out) {
  StackLoads loads;
  for (auto& dir : found) {
    auto pin = pinned.find(dir.name);
    if (pin == pinned.end()) {
      loads.dirs.push_back(std::move(dir));
      loads.opts.push_back(&opts);
      continue;
    }
    auto [it, fresh] = pinned_opts.try_emplace(pin->second, opts);
    if (fresh) it->second.repo_root = pin->second;
    auto there = compose::DiscoverStacks(pin->second, services_dir);
    const compose::StackDir* same = nullptr;
    if (there) {
      for (const auto& d : there->stacks) {
        if (d.name == dir.name) same = &d;
      }
    }
    if (same == nullptr) {
      out.stacks.push_back(
          {dir.name,
           core::StackStatus::kInvalid,
           {"pinned: the pinned commit's tree " + pin->second.string() + " has no stack " + dir.name},
           {},
           {},
           {}});
      continue;
    }
    loads.dirs.push_back(*same);
    loads.opts.push_back(&it->second);
  }
  return loads;
}

}  // namespace

std::string ResolveHostPath(const std::string& path) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::path(path), ec);
  return (ec ? fs::path(path) : resolved).lexically_normal().string();
}

const core::DesiredStack* DesiredState::Find(std::string_view stack) const {
  for (const auto& s : stacks) {
    if (s.name == stack) return &s;
  }
  return nullptr;
}

std::function<core::AllowedRuntimes()> AllowedRuntimesOf(const config::Config& config, RuntimesFn host) {
  const std::vector<std::string> configured = config.policy.allowed_runtimes;
  if (!configured.empty() || !host)
    return
        [configured] { return core::DecideAllowedRuntimes(configured, std::nullopt, "no Podman was asked"); };
  // The stacks load in parallel; the first that names a runtime asks, the others wait for it.
  struct Once {
    std::once_flag flag;
    core::AllowedRuntimes answer;
  };
  auto once = std::make_shared<Once>();
  return [once, host = std::move(host)] {
    std::call_once(once->flag, [&] {
      auto info = host();
      if (!info) {
        once->answer = core::DecideAllowedRuntimes(
            {}, std::nullopt, "the host's Podman did not answer (" + info.error().message + ")");
        return;
      }
      once->answer = core::DecideAllowedRuntimes(
          {}, core::HostRuntimes{info->default_runtime, info->names, info->listed}, "");
    });
    return once->answer;
  };
}

Expected<DesiredState> LoadDesired(const config::Config& config,
                                   const std::map<std::string, std::filesystem::path>& pinned,
                                   RuntimesFn host) {
  const fs::path root = config.repo.path;
  auto found = compose::DiscoverStacks(root, config.repo.services_dir);
  if (!found) return std::unexpected(found.error());

  compose::LoadOptions opts;
  opts.repo_root = root;
  fs::path secrets = config.repo.secrets_dir;
  opts.secrets_dir = secrets.is_absolute() ? secrets : root / secrets;
  opts.host_env = compose::HostEnv(compose::kDefaultEnvAllowList);
  opts.on_secret_value = MaskSecretValue;
  // What git ignores (data directories a stack bind-mounts) is state, not spec: never
  // fingerprinted. The rules answer for paths that do not exist yet, so a data directory
  // appearing after the first deployment changes nothing. One libgit2 repository is not to be
  // used by two threads at once: the stacks load in parallel, so the questions take turns.
  if (auto rules = git::IgnoreRules::Open(config.repo.path)) {
    auto shared = std::make_shared<Guarded<git::IgnoreRules>>(std::move(*rules));
    opts.is_ignored = [shared](std::string_view rel) { return shared->Lock()->IsIgnored(rel); };
  }
  core::PolicySettings policy{config.policy.allowed_bind_roots,
                              config.policy.allow,
                              config.podman.socket,
                              &ResolveHostPath,
                              config.policy.allowed_runtimes,
                              AllowedRuntimesOf(config, std::move(host))};
  const std::vector<std::string> inside = {ResolveHostPath(root.string()),
                                           ResolveHostPath(opts.secrets_dir.string())};

  DesiredState out;
  for (const auto& [name, err] : found->errors) {
    out.stacks.push_back({name, core::StackStatus::kInvalid, {err.What()}, {}, {}, {}});
  }
  // A pinned stack loads from its commit's tree: the same services directory in it.
  std::map<fs::path, compose::LoadOptions> pinned_opts;
  StackLoads loads =
      ResolvePins(std::move(found->stacks), opts, pinned, config.repo.services_dir, pinned_opts, out);
  const Keying keying = KeyingFor(config);
  for (auto& one : LoadAll(loads.dirs, loads.opts, policy, keying, root)) {
    if (one.model) {
      std::vector<std::string> stack_inside = inside;
      if (auto pin = pinned.find(one.desired.name); pin != pinned.end())
        stack_inside.push_back(ResolveHostPath(pin->second.string()));
      out.bind_guards.emplace(one.desired.name,
                              core::MakeBindGuard(one.model->dir, one.model->name, stack_inside, policy));
      out.models.emplace(one.desired.name, std::move(*one.model));
    }
    out.stacks.push_back(std::move(one.desired));
  }
  return out;
}

}  // namespace podcd::reconcile
