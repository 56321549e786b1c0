#include "web/stack_page.hpp"

#include "web/html.hpp"

namespace podcd::web {
namespace {

void Services(std::string& out, const StackPageView& v) {
  out += "<h2>Services</h2><table><thead><tr><th>Service<th>Container<th>State<th>Image</thead><tbody>";
  for (const auto& s : v.services) {
    out += "\n<tr><td>";
    AppendEscaped(out, s.name);
    out += "<td>";
    if (s.container.empty()) {
      out += "<i>no container</i><td><td>";
      continue;
    }
    out += "<code>";
    AppendEscaped(out, s.container);
    out += "</code><td>";
    AppendBadge(out, s.status);
    if (!s.health.empty()) out += " " + Badge(s.health);
    out += "<td><code>";
    AppendEscaped(out, s.image);
    out += "</code>";
  }
  if (v.services.empty()) out += "<tr><td colspan=\"4\"><i>no services</i>";
  out += "</tbody></table>";
}

// A value of the diff: known, absent (a field added has no old value), or unknown to podcd.
void Value(std::string& out, const std::optional<std::string>& value, bool absent) {
  out += "<td>";
  if (absent) {
    out += "<i>not set</i>";
  } else if (!value) {
    out += "<i>unknown: podcd keeps only a hash of it</i>";
  } else {
    out += "<code>";
    AppendEscaped(out, *value);
    out += "</code>";
  }
}

// Under the plan, whatever it says: a key podcd ignores is named, never silently dropped.
void Notes(std::string& out, const StackPageView& v) {
  if (v.notes.empty()) return;
  out += "<ul class=\"notes\">";
  for (const auto& n : v.notes) {
    out += "\n<li>Note: ";
    AppendEscaped(out, n);
  }
  out += "</ul>";
}

void Plan(std::string& out, const StackPageView& v) {
  out += "<h2>Plan</h2>";
  if (v.changes.empty()) {
    out += "<p class=\"muted\">Nothing to do: the containers match the repository.</p>";
    Notes(out, v);
    return;
  }
  if (!v.action.empty()) out += "<p>On the next deployment: " + Badge(v.action) + "</p>";
  out += "<table class=\"diff\"><thead><tr><th>Service<th>Field<th>Old<th>New</thead><tbody>";
  for (const auto& c : v.changes) {
    out += "\n<tr><td>";
    AppendEscaped(out, c.service.empty() ? "(stack)" : c.service);
    if (c.field.empty()) {
      out += "<td colspan=\"3\">";
      AppendEscaped(out, c.change);
      continue;
    }
    out += "<td><code>";
    AppendEscaped(out, c.field);
    out += "</code> ";
    AppendEscaped(out, c.change);
    Value(out, c.old_value, c.change == "added");
    Value(out, c.new_value, c.change == "removed");
  }
  out += "</tbody></table>";
  Notes(out, v);
}

void Banners(std::string& out, const PageContext& ctx, const StackPageView& v) {
  if (v.suspended) {
    out += "<div class=\"banner\" role=\"status\"><b>Suspended</b>";
    if (v.suspended_ms > 0) out += " " + TimeElement(v.suspended_ms, v.now_ms);
    if (!v.suspended_by.empty()) out += " by " + Escape(v.suspended_by);
    out += ": every reconcile skips this stack until it is resumed.</div>";
  }
  if (!v.pinned_commit.empty()) {
    out += "<div class=\"banner\" role=\"status\"><b>Pinned</b> to commit <code>";
    AppendEscaped(out, std::string_view(v.pinned_commit).substr(0, 12));
    out += "</code>";
    if (!v.pinned_deployment.empty()) {
      out += " of deployment <a href=\"" + Escape(ctx.base_path) + "/deployments/" +
             Escape(v.pinned_deployment) + "\">" + Escape(v.pinned_deployment) + "</a>";
    }
    if (v.pinned_ms > 0) out += " " + TimeElement(v.pinned_ms, v.now_ms);
    if (!v.pinned_by.empty()) out += " by " + Escape(v.pinned_by);
    out += ": the repository's newer commits are not deployed here until it is unpinned.</div>";
  }
}

void Actions(std::string& out, const PageContext& ctx, const StackPageView& v) {
  const std::string stack = "/" + UrlComponent(v.name);
  out += "<div class=\"actions\">";
  out += ActionButton(ctx, "/actions/redeploy" + stack, "Redeploy and update");
  out += ActionButton(ctx, "/actions/recreate" + stack, "Force recreate", "danger");
  out += v.suspended ? ActionButton(ctx, "/actions/resume" + stack, "Resume")
                     : ActionButton(ctx, "/actions/suspend" + stack, "Suspend", "danger");
  if (!v.pinned_commit.empty()) out += ActionButton(ctx, "/actions/unpin" + stack, "Unpin");
  out += "</div>";
}

void Deployments(std::string& out, const PageContext& ctx, const StackPageView& v) {
  out += "<h2>Recent deployments</h2><table><thead><tr><th>Queued<th>Outcome<th>Actor<th>Commit";
  if (ctx.admin) out += "<th>Pin";
  out += "</thead><tbody>";
  for (const auto& d : v.deployments) {
    out += "\n<tr><td><a href=\"" + Escape(ctx.base_path) + "/deployments/" + Escape(d.id) + "\">" +
           TimeElement(d.queued_ms, v.now_ms) + "</a><td>";
    AppendBadge(out, d.outcome.empty() ? d.state : d.outcome);
    if (!d.reason.empty()) out += "<p class=why>" + Escape(d.reason);
    out += "<td>";
    AppendEscaped(out, d.actor.empty() ? "unknown" : d.actor);
    out += "<td><code>";
    AppendEscaped(out, std::string_view(d.commit).substr(0, 12));
    out += "</code>";
    if (!ctx.admin) continue;
    out += "<td>";
    // An earlier deployment that went well for this stack, at a commit, can be pinned.
    const bool ok = d.state != "queued" && d.state != "running" && Tone(d.outcome) == "ok";
    if (ok && !d.commit.empty() && d.id != v.pinned_deployment) {
      out +=
          ActionButton(ctx, "/actions/pin/" + UrlComponent(v.name), "Pin", "action", {{"deployment", d.id}});
    } else if (d.id == v.pinned_deployment && !v.pinned_commit.empty()) {
      out += Badge("pinned");
    }
  }
  if (v.deployments.empty()) out += "<tr><td colspan=\"5\"><i>no deployments of this stack</i>";
  out += "</tbody></table><p><a href=\"" + Escape(ctx.base_path) +
         "/deployments?stack=" + Escape(UrlComponent(v.name)) + "\">All deployments of this stack</a></p>";
}

}  // namespace

std::string RenderStack(const PageContext& ctx, const StackPageView& v) {
  std::string body = "<div data-refresh=\"15\"><h1>Stack <code>";
  AppendEscaped(body, v.name);
  body += "</code> " + Badge(v.state) + "</h1>";
  Banners(body, ctx, v);
  body += "<div class=\"summary\"><span>commit <code>";
  AppendEscaped(body, std::string_view(v.commit).substr(0, 12));
  body += "</code></span></div>";
  if (ctx.admin) Actions(body, ctx, v);
  Services(body, v);
  Plan(body, v);
  Deployments(body, ctx, v);
  body += "</div>";
  return Page(ctx, v.name, body);
}

}  // namespace podcd::web
