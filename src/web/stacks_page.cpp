#include "web/stacks_page.hpp"

#include <map>

#include "web/html.hpp"

namespace podcd::web {
namespace {

// The colour of a state word (always shown with the word itself).
std::string_view Tone(std::string_view state) {
  static constexpr std::pair<std::string_view, std::string_view> kTones[] = {
      {"in-sync", "ok"},    {"succeeded", "ok"},   {"updated", "ok"},       {"unchanged", "ok"},
      {"created", "ok"},    {"recreated", "ok"},   {"healthy", "ok"},       {"running", "ok"},
      {"changed", "warn"},  {"drifted", "warn"},   {"queued", "warn"},      {"starting", "warn"},
      {"failed", "bad"},    {"invalid", "bad"},    {"refused", "bad"},      {"rolled-back", "bad"},
      {"unhealthy", "bad"}, {"exited", "bad"},     {"created-only", "bad"}, {"suspended", "off"},
      {"removed", "off"},   {"superseded", "off"}, {"skipped", "off"}};
  for (const auto& [word, tone] : kTones) {
    if (word == state) return tone;
  }
  return "off";
}

void Badge(std::string& out, std::string_view state) {
  out += "<b class=";  // one word: no quotes needed (HTML5), and 500 stacks stay small
  out += Tone(state);
  out += ">";
  AppendEscaped(out, state.empty() ? "unknown" : state);
  out += "</b>";
}

// "nginx:1.25" for "docker.io/library/nginx:1.25", as docker and podman show it.
std::string_view ShortImage(std::string_view image) {
  for (std::string_view prefix : {"docker.io/library/", "docker.io/"}) {
    if (image.starts_with(prefix)) return image.substr(prefix.size());
  }
  return image;
}

void Service(std::string& out, const ServiceView& s) {
  out += "<p>";
  AppendEscaped(out, s.name);
  out += ": ";
  if (s.container.empty()) {
    out += "<i>no container</i></p>";
    return;
  }
  Badge(out, s.health.empty() ? s.status : s.health);
  out += " <i>";
  AppendEscaped(out, ShortImage(s.image));
  out += "</i></p>";
}

void Row(std::string& out, const PageContext& ctx, const StackView& s, std::int64_t now_ms) {
  const std::string name = Escape(s.name);
  out += "\n<tr><td><a href=\"";
  AppendEscaped(out, ctx.base_path);
  out += "/stacks/" + name + "\">" + name + "</a><td>";
  Badge(out, s.state);
  if (!s.reason.empty()) {
    out += "<p class=why>";
    AppendEscaped(out, s.reason);
    out += "</p>";
  }
  out += "<td class=w>";
  AppendEscaped(out, std::string_view(s.commit).substr(0, 12));
  out += "<td>";
  if (s.last_deployment.empty()) {
    out += "<i>none</i>";
  } else {
    out += "<a href=\"";
    AppendEscaped(out, ctx.base_path);
    out += "/deployments/";
    AppendEscaped(out, s.last_deployment);
    out += "\">" + TimeElement(s.last_deployment_ms, now_ms) + "</a>";
    // The outcome in words, coloured; a deployment that went well needs no word.
    if (Tone(s.last_outcome) != "ok") {
      out += " ";
      Badge(out, s.last_outcome);
    }
  }
  out += "<td class=w>";
  for (const auto& svc : s.services) Service(out, svc);
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
    Badge(body, state);
    body += "</span>";
  }
  body += "</div>";
  if (ctx.admin) {
    body += "<div class=\"actions\">" +
            ActionButton(ctx, "/actions/deploy-all-changed", "Deploy all changed") +
            ActionButton(ctx, "/actions/sync", "Sync now (fetch and plan)") + "</div>";
  }
  // End tags of cells and rows are implied (HTML5): 500 stacks stay small.
  body +=
      "<table class=stacks><thead><tr><th>Stack<th>State<th class=w>Commit<th>Last deployment"
      "<th class=w>Services</thead><tbody>";
  for (const auto& s : view.stacks) Row(body, ctx, s, view.now_ms);
  if (view.stacks.empty()) body += "<tr><td colspan=\"5\"><i>no stacks in the repository</i>";
  body += "</tbody></table></div>";
  return Page(ctx, "Stacks", body);
}

}  // namespace podcd::web
