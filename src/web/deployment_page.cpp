#include "web/deployment_page.hpp"

#include "web/html.hpp"

namespace podcd::web {
namespace {

void Fact(std::string& out, std::string_view label, const std::string& html) {
  out += "<dt>";
  out += label;
  out += "<dd>";
  out += html;
}

std::string Duration(std::int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 120'000) return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
  return std::to_string(ms / 60'000) + " min " + std::to_string(ms % 60'000 / 1000) + " s";
}

}  // namespace

bool IsLive(std::string_view state) { return state == "queued" || state == "running"; }

std::string RenderDeployment(const PageContext& ctx, const DeploymentView& v) {
  const std::string base = Escape(ctx.base_path);
  const bool live = IsLive(v.state);
  std::string body = "<h1>Deployment <code>";
  AppendEscaped(body, v.id);
  body += "</code> <span id=\"deployment-state\" class=\"" + std::string(Tone(v.state)) + "\">";
  AppendEscaped(body, v.state.empty() ? "unknown" : v.state);
  body += "</span></h1>";
  body += "<dl class=\"facts\">";
  std::string trigger = Escape(v.trigger.empty() ? "unknown" : v.trigger);
  if (v.all_changed) trigger += ", every changed stack";
  if (!v.named_stacks.empty()) {
    trigger += ", stacks";
    for (const auto& s : v.named_stacks)
      trigger += " <a href=\"" + base + "/stacks/" + Escape(UrlComponent(s)) + "\">" + Escape(s) + "</a>";
  }
  if (v.pull) trigger += ", pulling images";
  Fact(body, "Trigger", trigger);
  Fact(body, "Actor", Escape(v.actor.empty() ? "unknown" : v.actor));
  if (!v.event.empty() || !v.delivery_id.empty())
    Fact(body, "Webhook",
         "event " + Escape(v.event) + ", delivery <code>" + Escape(v.delivery_id) + "</code>");
  Fact(body, "Commit", v.commit.empty() ? "<i>not yet known</i>" : "<code>" + Escape(v.commit) + "</code>");
  Fact(body, "Queued",
       TimeElement(v.queued_ms, v.now_ms) + " <span class=\"muted\">" + ExactTime(v.queued_ms) + "</span>");
  if (v.started_ms > 0) Fact(body, "Started", TimeElement(v.started_ms, v.now_ms));
  if (v.finished_ms > 0) {
    Fact(body, "Finished",
         TimeElement(v.finished_ms, v.now_ms) +
             (v.started_ms > 0 ? " after " + Duration(v.finished_ms - v.started_ms) : std::string()));
  }
  if (!v.reason.empty()) Fact(body, "Reason", Escape(v.reason));
  if (!v.superseded_by.empty()) {
    Fact(body, "Superseded by",
         "<a href=\"" + base + "/deployments/" + Escape(v.superseded_by) + "\">" + Escape(v.superseded_by) +
             "</a>");
  }
  body += "</dl><h2>Stacks</h2><table><thead><tr><th>Stack<th>Outcome<th>Reason<th>Took</thead><tbody>";
  for (const auto& s : v.stacks) {
    body += "\n<tr><td><a href=\"" + base + "/stacks/" + Escape(UrlComponent(s.name)) + "\">" +
            Escape(s.name) + "</a><td>" + Badge(s.outcome) + "<td>" + Escape(s.reason) + "<td>" +
            Duration(s.duration_ms);
  }
  if (v.stacks.empty())
    body += "<tr><td colspan=\"4\"><i>" + std::string(live ? "none yet" : "none") + "</i>";
  body += "</tbody></table><h2>Log</h2><pre id=\"log\" class=\"log\"";
  // The script follows the events while the deployment may still change.
  if (live) {
    body += " data-events=\"" + base + "/deployments/" + Escape(UrlComponent(v.id)) +
            "/events\" data-lines=\"" + std::to_string(v.log.size()) + "\"";
  }
  body += ">";
  for (const auto& line : v.log) {
    AppendEscaped(body, line);
    body += "\n";
  }
  body += "</pre>";
  // Without JavaScript the page reloads itself while the deployment may still change.
  return Page(ctx, "Deployment " + v.id, body,
              live ? "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>" : "");
}

}  // namespace podcd::web
