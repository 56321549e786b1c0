// The login form: fields `username` and `password`, posted to BASE/login. The message for a
// failed login is the same whether the user exists or not.
#pragma once

#include <string>
#include <string_view>

#include "web/page.hpp"

namespace podcd::web {

inline constexpr std::string_view kLoginFailed =
    "Wrong username or password, or too many tries: wait and try again.";

std::string RenderLogin(const PageContext& ctx, std::string_view message, std::string_view username);

}  // namespace podcd::web
