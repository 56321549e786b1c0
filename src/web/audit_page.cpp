#include "web/audit_page.hpp"

#include "web/html.hpp"

namespace podcd::web {

std::string RenderAudit(const PageContext& ctx, const AuditView& view) {
  std::string body =
      "<div data-refresh=\"30\"><h1>Audit</h1><table><thead><tr><th>Time<th>Actor<th>Address<th>Action"
      "<th>Target<th>Result</thead><tbody>";
  for (const auto& e : view.entries) {
    body += "\n<tr><td>" + TimeElement(e.time_ms, view.now_ms) + " <span class=\"muted w\">" +
            ExactTime(e.time_ms) + "</span><td>";
    AppendEscaped(body, e.actor);
    body += "<td>";
    AppendEscaped(body, e.address);
    body += "<td>";
    AppendEscaped(body, e.action);
    body += "<td>";
    AppendEscaped(body, e.target);
    body += "<td>" + Badge(e.result);
    if (!e.detail.empty()) body += "<p class=why>" + Escape(e.detail);
  }
  if (view.entries.empty()) body += "<tr><td colspan=\"6\"><i>nothing recorded yet</i>";
  body += "</tbody></table></div>";
  return Page(ctx, "Audit", body);
}

}  // namespace podcd::web
