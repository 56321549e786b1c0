// The JSON API of the dashboard's actions, as pure request parsing (no Pistache): each of
//   POST /actions/deploy-all-changed   every stack whose fingerprint changed
//   POST /actions/sync                 fetch the repository and plan every stack; deploy nothing
//   POST /actions/redeploy/<stack>     pull the newest images and update the stack
//   POST /actions/recreate/<stack>     recreate every service of the stack, changed or not
// becomes one state::Trigger for the work queue. The body may be empty, a JSON object (an
// optional "csrf" string, ignored here; a body starting with '{' is JSON whatever its
// Content-Type), or a form (the dashboard's `csrf=...`, whose token the server checks before
// this): nothing in it changes the work.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "state/deployment.hpp"
#include "util/error.hpp"

namespace podcd::http {

enum class ActionKind { kDeployAllChanged, kSync, kRedeploy, kRecreate };

// The action's word, as in its path and in the audit log: "deploy-all-changed", "sync",
// "redeploy", "recreate".
std::string_view ToString(ActionKind kind);
// Whether the action's path ends in /<stack>.
bool NamesStack(ActionKind kind);

struct ActionRequest {
  ActionKind kind = ActionKind::kDeployAllChanged;
  std::string_view stack;  // what follows /actions/<word>/ for the actions that name a stack
  std::string_view content_type;
  std::string_view body;
  std::string actor;  // becomes Trigger::actor
};

// Whether the repository holds a stack of that name (StackCatalog::Exists).
using StackExists = std::function<bool(const std::string& stack)>;

// The trigger, or kInvalidArgument (a malformed body, a missing or malformed stack name) or
// kNotFound (no such stack) with a message for the caller.
[[nodiscard]] Expected<state::Trigger> ParseAction(const ActionRequest& request, const StackExists& exists);

}  // namespace podcd::http
