#include "web/deliveries_page.hpp"

#include "web/html.hpp"

namespace podcd::web {

std::string RenderDeliveries(const PageContext& ctx, const DeliveriesView& view) {
  std::string body =
      "<div data-refresh=\"15\"><h1>Webhook deliveries</h1><table><thead><tr><th>Time<th>Client<th>Path"
      "<th>Event<th>Delivery<th>Result<th>Deployment</thead><tbody>";
  for (const auto& d : view.deliveries) {
    body += "\n<tr><td>" + TimeElement(d.time_ms, view.now_ms) + "<td>";
    AppendEscaped(body, d.client);
    body += "<td><code>";
    AppendEscaped(body, d.path);
    body += "</code><td>";
    AppendEscaped(body, d.event);
    body += "<td><code>";
    AppendEscaped(body, d.delivery_id);
    body += "</code><td>" + Badge(d.accepted ? "accepted" : "rejected");
    if (!d.reason.empty()) body += "<p class=why>" + Escape(d.reason);
    body += "<td>";
    if (d.deployment.empty()) {
      body += "<i>none</i>";
    } else {
      body += "<a href=\"" + Escape(ctx.base_path) + "/deployments/" + Escape(UrlComponent(d.deployment)) +
              "\">" + Escape(d.deployment) + "</a>";
    }
  }
  if (view.deliveries.empty()) body += "<tr><td colspan=\"7\"><i>no deliveries since podcd started</i>";
  body += "</tbody></table></div>";
  return Page(ctx, "Webhook deliveries", body);
}

}  // namespace podcd::web
