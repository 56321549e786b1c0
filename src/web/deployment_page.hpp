// BASE/deployments/<id>: one record. Trigger, actor, commit, each stack's outcome and reason,
// the log in <pre id="log"> and the state in <span id="deployment-state">. While it is queued
// or running, the script (assets.cpp) follows BASE/deployments/<id>/events with EventSource,
// appending each message to the log and reloading the page on `event: end`; without
// JavaScript, a <noscript> refresh reloads the page every 5 seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "web/page.hpp"

namespace podcd::web {

struct StackOutcomeView {
  std::string name;
  std::string outcome;
  std::string reason;
  std::int64_t duration_ms = 0;
};

struct DeploymentView {
  std::string id;
  std::string state;  // queued, running, succeeded, failed, superseded
  std::string trigger;
  std::string actor;
  std::string event;        // the webhook's event, may be ""
  std::string delivery_id;  // the webhook's delivery, may be ""
  std::vector<std::string> named_stacks;
  bool all_changed = false;
  bool pull = false;
  std::string commit;
  std::string reason;
  std::string superseded_by;
  std::int64_t queued_ms = 0;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
  std::vector<StackOutcomeView> stacks;
  std::vector<std::string> log;
  std::int64_t now_ms = 0;
};

// True while a deployment in `state` may still change (queued, running).
bool IsLive(std::string_view state);

std::string RenderDeployment(const PageContext& ctx, const DeploymentView& view);

}  // namespace podcd::web
