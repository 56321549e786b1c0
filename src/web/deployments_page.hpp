// BASE/deployments: the history, newest first, with filters by stack, state and actor (a GET
// form, so a filtered view is a link), each row linking to BASE/deployments/<id>.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "web/page.hpp"

namespace podcd::web {

// One deployment in a list (the lead fills it from state::Deployment).
struct DeploymentSummary {
  std::string id;
  std::string state;    // queued, running, succeeded, failed, superseded
  std::string trigger;  // the trigger's kind word (deploy-all-changed, redeploy-and-update, ...)
  std::string actor;    // user:NAME, token:ID:NAME, webhook:DELIVERY, poll, cli, ...
  std::string commit;
  std::string reason;  // why it failed or what superseded it
  std::int64_t queued_ms = 0;
  std::int64_t finished_ms = 0;
  std::vector<std::pair<std::string, std::string>> stacks;  // (stack, its outcome)
};

struct DeploymentFilter {
  std::string stack;
  std::string state;
  std::string actor;
};

struct DeploymentsView {
  DeploymentFilter filter;
  std::vector<DeploymentSummary> deployments;  // already filtered, newest first
  std::int64_t now_ms = 0;
};

std::string RenderDeployments(const PageContext& ctx, const DeploymentsView& view);

// The table of deployments (shared with the stack page): time, state, trigger, actor, commit,
// stacks and their outcomes.
void AppendDeploymentTable(std::string& out, const PageContext& ctx,
                           const std::vector<DeploymentSummary>& deployments, std::int64_t now_ms);

}  // namespace podcd::web
