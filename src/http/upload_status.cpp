#include "http/upload_status.hpp"

#include <algorithm>

#include "util/json.hpp"

namespace podcd::http {

bool Concerns(const state::Deployment& d, std::string_view project) {
  if (std::find(d.trigger.stacks.begin(), d.trigger.stacks.end(), project) != d.trigger.stacks.end())
    return true;
  return std::any_of(d.stacks.begin(), d.stacks.end(), [&](const state::StackOutcome& o) {
    return o.name == project && o.outcome != "unchanged";
  });
}

ProjectStatus StatusOf(std::string_view record_json, std::string_view project, bool newer) {
  ProjectStatus s;
  rapidjson::Document doc;
  doc.Parse(record_json.data(), record_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return {"no", "", std::nullopt, "unreadable record"};
  s.deployment = json::GetStr(doc, "id");
  const std::string state = json::GetStr(doc, "state");
  if (state == "queued") {
    s.status = "await";
  } else if (state == "running") {
    s.status = "active";
  } else if (state == "superseded") {
    s.status = "changed";
    s.reason = json::GetStr(doc, "reason");
  } else if (state == "succeeded") {
    s.status = newer ? "changed" : "ok";
  } else {
    s.status = "failed";
    s.reason = json::GetStr(doc, "reason");
    auto stacks = doc.FindMember("stacks");
    if (stacks != doc.MemberEnd() && stacks->value.IsArray()) {
      for (const auto& o : stacks->value.GetArray()) {
        if (!o.IsObject() || json::GetStr(o, "name") != project) continue;
        if (const std::string why = json::GetStr(o, "reason"); !why.empty()) s.reason = why;
        auto code = o.FindMember("hook_exit_code");
        if (code != o.MemberEnd() && code->value.IsInt()) {
          s.exit_code = code->value.GetInt();
          s.status = std::to_string(*s.exit_code);
        }
      }
    }
  }
  return s;
}

ProjectStatus Lookup(const std::vector<state::Deployment>& history, std::string_view project,
                     std::string_view id) {
  bool newer = false;  // a deployment of the project seen before (newer than) the one looked at
  for (const auto& d : history) {
    const bool concerns = Concerns(d, project);
    if (id.empty() ? concerns : d.id == id) {
      if (!concerns) break;  // a deployment of other stacks: not this project's
      return StatusOf(state::ToJson(d, 0), project, newer);
    }
    // A newer deployment that has not started yet does not make the older one "changed".
    if (concerns && d.state != state::DeploymentState::kQueued) newer = true;
  }
  return {"no", std::string(id), std::nullopt, {}};
}

std::string StatusJson(const ProjectStatus& s, std::string_view project, std::string_view base_path) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Str(w, "status", s.status);
  json::Str(w, "project", project);
  if (!s.deployment.empty()) {
    json::Str(w, "deployment", s.deployment);
    json::Str(w, "record", std::string(base_path) + "/deployments/" + s.deployment);
  }
  if (s.exit_code) json::Int(w, "exit_code", *s.exit_code);
  if (!s.reason.empty()) json::Str(w, "reason", s.reason);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace podcd::http
