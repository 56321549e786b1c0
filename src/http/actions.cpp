#include "http/actions.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>

#include "util/json_text.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// Empty, a form (ignored), or a JSON object with nothing but an optional "csrf" string.
Expected<void> CheckBody(std::string_view content_type, std::string_view body) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  // JSON whatever the Content-Type says: `curl -d '{...}'` labels it a form.
  const bool json = body[first] == '{' || body[first] == '[';
  const std::string type = Lower(content_type);
  if (!json && type.starts_with("application/x-www-form-urlencoded")) return {};
  if (!json && type.find("json") == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "the body must be empty, a JSON object or a form (application/x-www-form-urlencoded)");
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed JSON body: ") +
                                                 rapidjson::GetParseError_En(doc.GetParseError()) +
                                                 " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (key == "csrf" && m->value.IsString()) continue;
    if (key == "csrf") return Fail(ErrorCode::kInvalidArgument, "field \"csrf\" must be a string");
    return Fail(ErrorCode::kInvalidArgument,
                "unknown field " + json::Quoted(key.substr(0, 64)) + " (an action takes no parameters)");
  }
  return {};
}

}  // namespace

std::string_view ToString(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDeployAllChanged: return "deploy-all-changed";
    case ActionKind::kSync: return "sync";
    case ActionKind::kRedeploy: return "redeploy";
    case ActionKind::kRecreate: return "recreate";
  }
  return "";
}

bool NamesStack(ActionKind kind) { return kind == ActionKind::kRedeploy || kind == ActionKind::kRecreate; }

Expected<state::Trigger> ParseAction(const ActionRequest& request, const StackExists& exists) {
  if (auto body = CheckBody(request.content_type, request.body); !body) return std::unexpected(body.error());
  state::Trigger t;
  t.actor = request.actor;
  if (NamesStack(request.kind)) {
    const std::string stack(request.stack);
    if (stack.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "no stack named: POST /actions/" + std::string(ToString(request.kind)) + "/<stack>");
    }
    if (!IsValidStackName(stack)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "not a valid stack name (lowercase letters, digits, '_', '.', '-'; at most 63)");
    }
    if (!exists(stack)) return Fail(ErrorCode::kNotFound, "unknown stack \"" + stack + "\"");
    t.stacks = {stack};
  }
  switch (request.kind) {
    case ActionKind::kDeployAllChanged:
      t.kind = state::TriggerKind::kDeployAllChanged;
      t.all_changed = true;
      break;
    case ActionKind::kSync: t.kind = state::TriggerKind::kSync; break;
    case ActionKind::kRedeploy:
      t.kind = state::TriggerKind::kRedeployAndUpdate;
      t.pull = true;
      break;
    case ActionKind::kRecreate:
      t.kind = state::TriggerKind::kDeploy;
      t.force = true;
      break;
  }
  return t;
}

}  // namespace podcd::http
