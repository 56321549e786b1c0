// The dashboard's front page: every stack with its state, commit, last deployment and each
// service's container; the repository's commit and sync; for ADMIN the actions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "web/page.hpp"

namespace podcd::web {

struct ServiceView {
  std::string name;
  std::string container;  // "" when it has none (the front page names it when it is not NAME_SERVICE_1)
  std::string status;     // running, exited, created, ...
  std::string health;     // healthy, unhealthy, starting, "" without a healthcheck
  std::string image;
};

struct StackView {
  std::string name;
  // in-sync, changed, drifted, failed, invalid, refused, removed, suspended, pinned
  std::string state;
  bool suspended = false;     // skipped by every reconcile (shown even when `state` says more)
  std::string pinned_commit;  // "" unless pinned to an earlier deployment's commit
  std::string commit;
  std::string last_deployment;  // id, "" for none
  std::string last_outcome;     // the stack's outcome in it
  std::int64_t last_deployment_ms = 0;
  std::string reason;  // why it is not in sync (first line), "" when it is
  std::vector<ServiceView> services;
};

struct RepoView {
  std::string branch;
  std::string commit;
  std::int64_t last_sync_ms = 0;
  bool remote_ahead = false;
};

struct StacksView {
  RepoView repo;
  std::vector<StackView> stacks;
  std::int64_t now_ms = 0;
};

std::string RenderStacks(const PageContext& ctx, const StacksView& view);

}  // namespace podcd::web
