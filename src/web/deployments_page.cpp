#include "web/deployments_page.hpp"

#include "web/html.hpp"

namespace podcd::web {
namespace {

constexpr std::string_view kStates[] = {"queued", "running", "succeeded", "failed", "superseded"};

void Input(std::string& out, std::string_view name, std::string_view label, std::string_view value) {
  out += "<label>";
  out += label;
  out += " <input name=\"";
  out += name;
  out += "\" value=\"";
  AppendEscaped(out, value);
  out += "\"></label>";
}

}  // namespace

void AppendDeploymentTable(std::string& out, const PageContext& ctx,
                           const std::vector<DeploymentSummary>& deployments, std::int64_t now_ms) {
  out +=
      "<table class=\"deployments\"><thead><tr><th>Queued<th>State<th>Trigger<th>Actor<th>Commit"
      "<th>Stacks</thead><tbody>";
  for (const auto& d : deployments) {
    out += "\n<tr><td><a href=\"";
    AppendEscaped(out, ctx.base_path);
    out += "/deployments/";
    AppendEscaped(out, d.id);
    out += "\">" + TimeElement(d.queued_ms, now_ms) + "</a><td>";
    AppendBadge(out, d.state);
    if (!d.reason.empty()) {
      out += "<p class=why>";
      AppendEscaped(out, d.reason);
    }
    out += "<td>";
    AppendEscaped(out, d.trigger);
    out += "<td>";
    AppendEscaped(out, d.actor.empty() ? "unknown" : d.actor);
    out += "<td><code>";
    AppendEscaped(out, std::string_view(d.commit).substr(0, 12));
    out += "</code><td>";
    for (const auto& [stack, outcome] : d.stacks) {
      out += "<p>";
      AppendEscaped(out, stack);
      out += " ";
      AppendBadge(out, outcome);
    }
  }
  if (deployments.empty()) out += "<tr><td colspan=\"6\"><i>no deployments</i>";
  out += "</tbody></table>";
}

std::string RenderDeployments(const PageContext& ctx, const DeploymentsView& view) {
  std::string body = "<div data-refresh=\"15\"><h1>Deployments</h1>";
  body += "<form class=\"filters\" method=\"get\" action=\"";
  AppendEscaped(body, ctx.base_path);
  body += "/deployments\">";
  Input(body, "stack", "Stack", view.filter.stack);
  body += "<label>State <select name=\"state\"><option value=\"\">any</option>";
  for (auto s : kStates) {
    body += "<option";
    if (view.filter.state == s) body += " selected";
    body += ">";
    body += s;
    body += "</option>";
  }
  body += "</select></label>";
  Input(body, "actor", "Actor", view.filter.actor);
  body += "<button type=\"submit\">Filter</button></form>";
  AppendDeploymentTable(body, ctx, view.deployments, view.now_ms);
  body += "</div>";
  return Page(ctx, "Deployments", body);
}

}  // namespace podcd::web
