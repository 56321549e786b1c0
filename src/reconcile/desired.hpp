// The desired state of the host: every stack of the repo loaded, policy-checked and
// fingerprinted, ready for core::Plan and for the applier's Podman mapping.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/model.hpp"
#include "core/plan.hpp"
#include "core/policy.hpp"
#include "core/runtimes.hpp"
#include "podman/client.hpp"
#include "util/error.hpp"

namespace podcd::reconcile {

struct DesiredState {
  std::vector<core::DesiredStack> stacks;     // for Plan(); invalid and refused ones included
  std::map<std::string, core::Stack> models;  // loaded stacks (status kOk) by name
  // What the applier re-checks of each loaded stack's binds right before a create.
  std::map<std::string, core::BindGuard> bind_guards;

  [[nodiscard]] const core::DesiredStack* Find(std::string_view stack) const;
};

// Asks the host's Podman which OCI runtimes it knows (Runtime::Runtimes, podman::Client::Runtimes).
using RuntimesFn = std::function<Expected<podman::RuntimesInfo>()>;

// The runtimes a service may name: policy.allowed_runtimes when set, else what `host` answers
// (asked once, and only when a service names a runtime); without `host`, podcd's built-in list.
std::function<core::AllowedRuntimes()> AllowedRuntimesOf(const config::Config& config, RuntimesFn host);

// Reads <repo.path>/<repo.services_dir>. A missing services directory is an error; a bad stack
// is not (it is reported as invalid and the others proceed).
// `pinned`: stacks loaded from another tree (a pinned commit's files, MaterializePin) instead
// of the work tree. Their binds of repository paths the tree lacks (git-ignored data, say) are
// the work tree's, so a pinned stack keeps its data.
// `host`: the host's Podman, for policy.allowed_runtimes' default; unset (check-config, offline):
// podcd's built-in list, and the refusal says no Podman was asked.
Expected<DesiredState> LoadDesired(const config::Config& config,
                                   const std::map<std::string, std::filesystem::path>& pinned = {},
                                   RuntimesFn host = {});

// A host path with its symlinks resolved as this process sees the file system now (the
// policy's core::ResolveFn); a path that cannot be resolved stays as written, normalised.
std::string ResolveHostPath(const std::string& path);

}  // namespace podcd::reconcile
