#include "web/stacks_page.hpp"

#include <map>

#include "web/html.hpp"

namespace podcd::web {
namespace {

// "nginx:1.25" for "docker.io/library/nginx:1.25", as docker and podman show it.
std::string_view ShortImage(std::string_view image) {
  for (std::string_view prefix : {"docker.io/library/", "docker.io/"}) {
    if (image.starts_with(prefix)) return image.substr(prefix.size());
  }
  return image;
}

// One line a service (end tags implied: 500 stacks stay small; one row is about 290 bytes
// with two services, and each byte less a row is half a kilobyte less a page). The container is named only
// when it is not podcd's default STACK_SERVICE_1 (a container_name); the stack page names all.
void Service(std::string& out, const StackView& stack, const ServiceView& s, bool first) {
  if (!first) out += "<p>";
  AppendEscaped(out, s.name);
  if (s.container.empty()) {
    out += " <i>no container</i>";
    return;
  }
  if (s.container != stack.name + "_" + s.name + "_1") {
    out += " (";
    AppendEscaped(out, s.container);
    out += ")";
  }
  out += " ";
  AppendBadge(out, s.health.empty() ? s.status : s.health);
  out += " <i>";
  AppendEscaped(out, ShortImage(s.image));
  out += "</i>";
}

void Row(std::string& out, const PageContext& ctx, const StackView& s, std::int64_t now_ms) {
  out += "<tr><td><a href";
  AppendAttribute(out, ctx.base_path + "/stacks/" + UrlComponent(s.name));
  out += ">";
  AppendEscaped(out, s.name);
  out += "</a><td>";
  AppendBadge(out, s.state);
  // Suspended and pinned are said even when the state word says something else.
  if (s.suspended && s.state != "suspended") out += " " + Badge("suspended");
  if (!s.pinned_commit.empty()) {
    if (s.state != "pinned") out += " " + Badge("pinned");
    out += " <code>";
    AppendEscaped(out, std::string_view(s.pinned_commit).substr(0, 12));
    out += "</code>";
  }
  if (!s.reason.empty()) {
    out += "<p class=why>";
    AppendEscaped(out, s.reason);
  }
  out += "<td>";
  AppendEscaped(out, std::string_view(s.commit).substr(0, 12));
  out += "<td>";
  if (s.last_deployment.empty()) {
    out += "<i>none</i>";
  } else {
    out += "<a href";
    AppendAttribute(out, ctx.base_path + "/deployments/" + UrlComponent(s.last_deployment));
    out += ">" + TimeElement(s.last_deployment_ms, now_ms) + "</a>";
    // The outcome in words, coloured; a deployment that went well needs no word.
    if (Tone(s.last_outcome) != "ok") {
      out += " ";
      AppendBadge(out, s.last_outcome);
    }
  }
  out += "<td>";
  // The first service needs no paragraph of its own: the cell starts one line.
  for (std::size_t i = 0; i < s.services.size(); ++i) Service(out, s, s.services[i], i == 0);
}

}  // namespace

std::string RenderStacks(const PageContext& ctx, const StacksView& view) {
  std::map<std::string, int> counts;
  for (const auto& s : view.stacks) ++counts[s.state];
  std::string body;
  body.reserve(1024 + view.stacks.size() * 320);
  body += "<div data-refresh=\"15\"><h1>Stacks</h1><div class=\"summary\"><span>branch <code>";
  AppendEscaped(body, view.repo.branch);
  body += "</code> at <code>";
  AppendEscaped(body, std::string_view(view.repo.commit).substr(0, 12));
  body += "</code></span><span>synced " + TimeElement(view.repo.last_sync_ms, view.now_ms) + "</span>";
  if (view.repo.remote_ahead) body += "<span><b class=warn>the remote is ahead</b></span>";
  for (const auto& [state, n] : counts) {
    body += "<span>" + std::to_string(n) + " ";
    AppendBadge(body, state);
    body += "</span>";
  }
  body += "</div>";
  if (ctx.admin) {
    body += "<div class=\"actions\">" +
            ActionButton(ctx, "/actions/deploy-all-changed", "Deploy all changed") +
            ActionButton(ctx, "/actions/sync", "Sync now (fetch and plan)") + "</div>";
  }
  // End tags of cells, rows and paragraphs are implied (HTML5); the columns a phone hides are
  // chosen in the stylesheet (table.stacks), not per cell: 500 stacks stay small.
  body +=
      "<table class=stacks><thead><tr><th>Stack<th>State<th>Commit<th>Last deployment"
      "<th>Services</thead><tbody>";
  for (const auto& s : view.stacks) Row(body, ctx, s, view.now_ms);
  if (view.stacks.empty()) body += "<tr><td colspan=\"5\"><i>no stacks in the repository</i>";
  body += "</tbody></table></div>";
  return Page(ctx, "Stacks", body);
}

}  // namespace podcd::web
