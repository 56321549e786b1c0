#include "web/login_page.hpp"

#include "web/html.hpp"

namespace podcd::web {

std::string RenderLogin(const PageContext& ctx, std::string_view message, std::string_view username) {
  std::string body = "<form class=\"login\" method=\"post\" action=\"" + Escape(ctx.base_path) +
                     "/login\"><h1>Log in to podcd</h1>";
  if (!message.empty()) body += "<div class=\"banner\" role=\"alert\">" + Escape(message) + "</div>";
  body +=
      "<label for=\"username\">Username</label><input id=\"username\" name=\"username\" "
      "autocomplete=\"username\" required autofocus value=\"" +
      Escape(username) +
      "\"><label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required><button type=\"submit\" class=\"action\">Log "
      "in</button></form>";
  PageContext anonymous = ctx;
  anonymous.user.clear();
  return Page(anonymous, "Log in", body);
}

}  // namespace podcd::web
