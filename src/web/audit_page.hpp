// BASE/audit: who did what: every action and every login, with the actor, the client's
// address, the target and the result (the lead converts state::AuditEntry into AuditRowView).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "web/page.hpp"

namespace podcd::web {

struct AuditRowView {
  std::int64_t time_ms = 0;
  std::string actor;    // user:NAME, token:ID:NAME, webhook:DELIVERY, poll, cli, ...
  std::string address;  // the client's address
  std::string action;   // login, logout, deploy-all-changed, suspend, pin, ...
  std::string target;   // a stack, a deployment, a user; may be ""
  std::string result;   // ok, denied, failed, ... (coloured by web::Tone)
  std::string detail;   // may be ""
};

struct AuditView {
  std::vector<AuditRowView> entries;  // newest first
  std::int64_t now_ms = 0;
};

std::string RenderAudit(const PageContext& ctx, const AuditView& view);

}  // namespace podcd::web
