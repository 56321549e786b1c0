// The dashboard's pages around their content: the document, the header with the user and the
// navigation, the stylesheet and script links (assets.hpp; no inline script, so the
// Content-Security-Policy forbids every inline one), and the answer's security headers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::web {

// Who looks, and where the dashboard lives (http.base_path, "" for the root, else "/prefix"
// without a trailing slash): every link is written under it.
struct PageContext {
  std::string base_path;
  std::string user;  // "" on the login page
  bool admin = false;
  std::string csrf;  // the session's token, in every state-changing form
};

// A whole HTML document: `title` is text (escaped here); `body` is HTML built with Escape.
// `head` is more HTML for the <head> (a <noscript> refresh).
std::string Page(const PageContext& ctx, std::string_view title, std::string_view body,
                 std::string_view head = {});

// <form method="post" action="BASE/PATH"> with the CSRF token and one button: how every
// action is offered (a button that names what it does).
std::string ActionButton(const PageContext& ctx, std::string_view path, std::string_view label,
                         std::string_view css_class = "action");

// The same with more hidden fields (name, value), e.g. {"deployment", ID} for a pin.
std::string ActionButton(const PageContext& ctx, std::string_view path, std::string_view label,
                         std::string_view css_class,
                         const std::vector<std::pair<std::string, std::string>>& fields);

// The headers every page is sent with.
std::vector<std::pair<std::string, std::string>> PageHeaders();

}  // namespace podcd::web
