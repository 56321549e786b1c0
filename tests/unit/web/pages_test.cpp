// The pages: hostile names never become markup, links live under the base path, no inline
// script, actions only for ADMIN, and the front page for 500 stacks stays small.
#include <catch2/catch.hpp>
#include <regex>

#include "web/assets.hpp"
#include "web/login_page.hpp"
#include "web/page.hpp"
#include "web/stacks_page.hpp"

using namespace podcd::web;

namespace {

StacksView Sample(std::size_t n, const std::string& hostile = "") {
  StacksView v;
  v.now_ms = 1'796'200'000'000;
  v.repo = {"main", "9ce009c2a1b2c3d4e5f6", v.now_ms - 30'000, false};
  for (std::size_t i = 0; i < n; ++i) {
    StackView s;
    s.name = hostile.empty() ? "stack-" + std::to_string(i) : hostile;
    s.state = i % 3 == 0 ? "changed" : "in-sync";
    s.commit = "9ce009c2a1b2c3d4e5f6";
    s.last_deployment = "20261202-104500-000001";
    s.last_outcome = "updated";
    s.last_deployment_ms = v.now_ms - 600'000;
    s.reason = hostile;
    s.services = {{"web", s.name + "_web_1", "running", "healthy", "docker.io/library/nginx:1.25"},
                  {"db", s.name + "_db_1", "running", "", hostile.empty() ? "postgres:16" : hostile}};
    v.stacks.push_back(std::move(s));
  }
  return v;
}

PageContext Admin() { return {"/deploy", "alice", true, "c5rf"}; }

}  // namespace

TEST_CASE("pages: a hostile stack name, reason or image is text, never markup") {
  const std::string evil = "<img src=x onerror=alert(1)>\"'&";
  const std::string html = RenderStacks(Admin(), Sample(1, evil));
  CHECK(html.find(evil) == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;") != std::string::npos);
  const std::string login = RenderLogin({"", "", false, ""}, "", evil);
  CHECK(login.find(evil) == std::string::npos);
  CHECK(login.find("value=\"&lt;img") != std::string::npos);
}

TEST_CASE("pages: every link and form is under the base path; no inline script or style") {
  const std::string html = RenderStacks(Admin(), Sample(3));
  const std::regex link("(href|action|src)=(\"([^\"]*)\"|([^ >\"]+))");
  int links = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator(); ++it) {
    INFO((*it)[0].str());
    CHECK(((*it)[3].str() + (*it)[4].str()).starts_with("/deploy/"));
    ++links;
  }
  CHECK(links > 10);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<script src=\"/deploy/static/podcd.js\" defer></script>") != std::string::npos);
  CHECK(html.find("style=") == std::string::npos);
  CHECK(html.find(" on") == std::string::npos);  // no onclick= and the like
  // At the root, links start at "/".
  const std::string root = RenderStacks({"", "alice", true, "t"}, Sample(1));
  CHECK(root.find("href=/stacks/stack-0>") != std::string::npos);
  CHECK(root.find("href=\"/static/podcd.css\"") != std::string::npos);
}

TEST_CASE("pages: actions for ADMIN carry the CSRF token; USER sees none") {
  const std::string admin = RenderStacks(Admin(), Sample(2));
  CHECK(admin.find("Deploy all changed") != std::string::npos);
  CHECK(admin.find("action=\"/deploy/actions/deploy-all-changed\"") != std::string::npos);
  const std::regex form("<form method=\"post\"[^>]*>(.*?)</form>");
  int forms = 0;
  for (auto it = std::sregex_iterator(admin.begin(), admin.end(), form); it != std::sregex_iterator(); ++it) {
    CHECK((*it)[1].str().find("name=\"csrf\" value=\"c5rf\"") != std::string::npos);
    ++forms;
  }
  CHECK(forms == 3);  // deploy all changed, sync, log out
  const std::string user = RenderStacks({"/deploy", "bob", false, "c5rf"}, Sample(2));
  CHECK(user.find("Deploy all changed") == std::string::npos);
  CHECK(user.find("/actions/") == std::string::npos);
  CHECK(user.find("bob <span class=\"role\">USER</span>") != std::string::npos);
}

TEST_CASE("pages: the login form posts username and password to BASE/login") {
  const std::string html = RenderLogin({"/deploy", "", false, ""}, kLoginFailed, "alice");
  CHECK(html.find("<form class=\"login\" method=\"post\" action=\"/deploy/login\">") != std::string::npos);
  CHECK(html.find("name=\"username\"") != std::string::npos);
  CHECK(html.find("name=\"password\" type=\"password\"") != std::string::npos);
  CHECK(html.find("value=\"alice\"") != std::string::npos);
  CHECK(html.find("Wrong username or password") != std::string::npos);
  CHECK(html.find("Log out") == std::string::npos);
}

TEST_CASE("pages: the security headers; the assets are embedded") {
  bool csp = false, frame = false;
  for (const auto& [k, v] : PageHeaders()) {
    if (k == "Content-Security-Policy") {
      csp = v.find("script-src 'self'") != std::string::npos &&
            v.find("unsafe-inline") == std::string::npos &&
            v.find("frame-ancestors 'none'") != std::string::npos;
    }
    frame = frame || (k == "X-Frame-Options" && v == "DENY");
  }
  CHECK(csp);
  CHECK(frame);
  REQUIRE(FindAsset("podcd.css") != nullptr);
  REQUIRE(FindAsset("podcd.js") != nullptr);
  CHECK(FindAsset("podcd.js")->content_type.starts_with("text/javascript"));
  CHECK(FindAsset("../podcd.css") == nullptr);
  CHECK(FindAsset("") == nullptr);
  // Nothing is fetched from elsewhere.
  for (const auto* name : {"podcd.css", "podcd.js"}) {
    CHECK(FindAsset(name)->body.find("http") == std::string::npos);
    CHECK(FindAsset(name)->body.find("@import") == std::string::npos);
  }
}

TEST_CASE("pages: the front page for 500 stacks of one service stays under 150 KB") {
  // About 280 bytes a row with one service, 340 with two (170 KB for 500).
  StacksView view = Sample(500);
  for (auto& s : view.stacks) s.services.resize(1);
  const std::string html = RenderStacks(Admin(), view);
  INFO(html.size());
  CHECK(html.size() < 150'000);
}

TEST_CASE("pages: the front page says suspended and pinned in words; custom container names are shown") {
  StacksView view = Sample(3);
  view.stacks[0].state = "suspended";
  view.stacks[0].suspended = true;
  view.stacks[1].state = "pinned";
  view.stacks[1].pinned_commit = "abcdef0123456789";
  view.stacks[2].state = "failed";
  view.stacks[2].suspended = true;
  view.stacks[2].services[1].container = "my-db";
  const std::string html = RenderStacks(Admin(), view);
  CHECK(html.find("stack-0</a><td><b class=off>suspended</b><td>") != std::string::npos);
  CHECK(html.find("stack-1</a><td><b class=warn>pinned</b> <code>abcdef012345</code>") != std::string::npos);
  CHECK(html.find("stack-2</a><td><b class=bad>failed</b> <b class=off>suspended</b>") != std::string::npos);
  // stack_web_1 is podcd's own name for it: not repeated; my-db is.
  CHECK(html.find("<td>web <b class=ok>healthy</b>") != std::string::npos);
  CHECK(html.find("<p>db (my-db) <b class=ok>running</b>") != std::string::npos);
}
