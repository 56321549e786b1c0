// BASE/stacks/<name>: the stack's services with their containers, the plan's reasons as a diff
// (field | old | new; a value podcd cannot know is said to be unknown, never made up) and its
// notes (keys podcd accepts and ignores), its
// recent deployments, suspended and pinned states as banners, and for ADMIN the actions:
// Redeploy and update, Force recreate, Suspend or Resume, Pin (per earlier successful
// deployment) or Unpin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "web/deployments_page.hpp"
#include "web/page.hpp"
#include "web/stacks_page.hpp"

namespace podcd::web {

// One reason of the plan (http::ChangeInfo): a field with its values, or a reason in `change`.
struct ChangeView {
  std::string service;                   // "" for the whole stack
  std::string field;                     // "" for a reason that is not a field
  std::string change;                    // changed, added, removed; else the reason's text
  std::optional<std::string> old_value;  // nullopt: podcd cannot know it
  std::optional<std::string> new_value;
};

// One deployment that touched the stack, with the stack's own outcome in it.
struct StackDeploymentView {
  std::string id;
  std::string state;    // the deployment's
  std::string outcome;  // the stack's: updated, unchanged, failed, rolled-back, ...
  std::string reason;
  std::string actor;
  std::string commit;
  std::int64_t queued_ms = 0;
};

struct StackPageView {
  std::string name;
  std::string state;  // as on the front page
  std::string commit;
  std::string action;  // the plan's: create, recreate, unchanged, remove, invalid, refused
  bool suspended = false;
  std::string suspended_by;  // actor word, may be ""
  std::int64_t suspended_ms = 0;
  std::string pinned_commit;  // "" when not pinned
  std::string pinned_deployment;
  std::string pinned_by;
  std::int64_t pinned_ms = 0;
  std::vector<ServiceView> services;
  std::vector<ChangeView> changes;
  // What the stack's files ask and podcd does not act on (`develop`, ...): the plan names them.
  std::vector<std::string> notes;
  std::vector<StackDeploymentView> deployments;  // newest first
  std::int64_t now_ms = 0;
};

std::string RenderStack(const PageContext& ctx, const StackPageView& view);

}  // namespace podcd::web
