#include "web/page.hpp"

#include "web/html.hpp"

namespace podcd::web {

std::string Page(const PageContext& ctx, std::string_view title, std::string_view body,
                 std::string_view head) {
  const std::string base = Escape(ctx.base_path);
  std::string out;
  out.reserve(body.size() + 1024);
  out +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>";
  AppendEscaped(out, title);
  out += " · podcd</title><link rel=\"stylesheet\" href=\"" + base + "/static/podcd.css\">";
  out += "<script src=\"" + base + "/static/podcd.js\" defer></script>";
  out += head;
  out += "</head><body>";
  out += "<header><a class=\"brand\" href=\"" + base + "/\">podcd</a>";
  if (!ctx.user.empty()) {
    out += "<nav><a href=\"" + base + "/\">Stacks</a><a href=\"" + base + "/deployments\">Deployments</a>";
    out += "<a href=\"" + base + "/deliveries\">Webhooks</a><a href=\"" + base + "/audit\">Audit</a></nav>";
    out += "<span class=\"who\">";
    AppendEscaped(out, ctx.user);
    out += ctx.admin ? " <span class=\"role\">ADMIN</span>" : " <span class=\"role\">USER</span>";
    out += ActionButton(ctx, "/logout", "Log out", "logout");
    out += "</span>";
  }
  out += "</header><main>";
  out += body;
  out += "</main></body></html>\n";
  return out;
}

std::string ActionButton(const PageContext& ctx, std::string_view path, std::string_view label,
                         std::string_view css_class) {
  return ActionButton(ctx, path, label, css_class, {});
}

std::string ActionButton(const PageContext& ctx, std::string_view path, std::string_view label,
                         std::string_view css_class,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "<form method=\"post\" class=\"inline\" action=\"";
  AppendEscaped(out, ctx.base_path);
  AppendEscaped(out, path);
  out += "\"><input type=\"hidden\" name=\"csrf\" value=\"";
  AppendEscaped(out, ctx.csrf);
  out += "\">";
  for (const auto& [name, value] : fields) {
    out += "<input type=\"hidden\" name=\"";
    AppendEscaped(out, name);
    out += "\" value=\"";
    AppendEscaped(out, value);
    out += "\">";
  }
  out += "<button type=\"submit\" class=\"";
  AppendEscaped(out, css_class);
  out += "\">";
  AppendEscaped(out, label);
  out += "</button></form>";
  return out;
}

std::vector<std::pair<std::string, std::string>> PageHeaders() {
  return {
      {"Content-Type", "text/html; charset=utf-8"},
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
      {"X-Frame-Options", "DENY"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "same-origin"},
      {"Cache-Control", "no-store"},
  };
}

}  // namespace podcd::web
