// GET /status/<project>[/<deployment>] (docs/upload.md): a deployment in IPD's words, so that a
// CI job written for IPD's deploy server reads podcd's answers unchanged:
//   await    queued               active   running
//   ok       succeeded            no       unknown project or deployment
//   changed  superseded by a newer deployment of the project
//   "<n>"    a hook of the project failed with exit code n (the record's hook_exit_code)
//   failed   failed otherwise (with the reason)
// Pure: the records are handed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/deployment.hpp"

namespace podcd::http {

struct ProjectStatus {
  std::string status;  // one of the words above
  std::string deployment;
  std::optional<int> exit_code;  // the failing hook's
  std::string reason;            // of a failure or a supersession
};

// Whether deployment `d` worked on `project`: it names it, or has an outcome for it other than
// "unchanged".
bool Concerns(const state::Deployment& d, std::string_view project);

// The status of `d` (its record as JSON: fields a newer podcd writes, such as a stack's
// hook_exit_code, are read from it) for `project`; `newer`: a later deployment of the project
// exists.
ProjectStatus StatusOf(std::string_view record_json, std::string_view project, bool newer);

// GET /status/<project>[/<id>] over `history` (newest first): the deployment `id`, or the newest
// that concerns the project when `id` is empty.
ProjectStatus Lookup(const std::vector<state::Deployment>& history, std::string_view project,
                     std::string_view id);

// The answer's JSON: {"status":..,"project":..,"deployment":..,"record":"<base>/deployments/<id>"}
// with "exit_code" and "reason" when set.
std::string StatusJson(const ProjectStatus& s, std::string_view project, std::string_view base_path);

}  // namespace podcd::http
