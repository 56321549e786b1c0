// The stack page: services, the plan as a diff (unknown values said to be unknown), recent
// deployments, banners for suspended and pinned, actions only for ADMIN, hostile values escaped.
#include "web/stack_page.hpp"

#include <catch2/catch.hpp>
#include <regex>

using namespace podcd::web;

namespace {

const std::string kEvil = "<img src=x onerror=alert(1)>\"'&";

StackPageView Sample() {
  StackPageView v;
  v.now_ms = 1'796'200'000'000;
  v.name = "web";
  v.state = "changed";
  v.commit = "9ce009c2a1b2c3d4";
  v.action = "recreate";
  v.services = {{"app", "web_app_1", "running", "healthy", "docker.io/library/nginx:1.25"},
                {"db", "", "", "", ""}};
  v.changes = {{"app", "image", "changed", "nginx:1.25", "nginx:1.27"},
               {"app", "environment.MODE", "changed", std::nullopt, "fast"},
               {"app", "labels.x", "removed", std::nullopt, std::nullopt},
               {"app", "environment.NEW", "added", std::nullopt, "1"},
               {"db", "", "no container", std::nullopt, std::nullopt}};
  v.deployments = {{"d-3", "failed", "failed", "health gate", "user:alice", "cccc", v.now_ms - 60'000},
                   {"d-2", "succeeded", "updated", "", "webhook:abc", "bbbb", v.now_ms - 120'000},
                   {"d-1", "succeeded", "unchanged", "", "poll", "", v.now_ms - 180'000}};
  return v;
}

PageContext Admin() { return {"/deploy", "alice", true, "c5rf"}; }
PageContext User() { return {"/deploy", "bob", false, "c5rf"}; }

bool Has(const std::string& html, const std::string& part) { return html.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("stack page: services with container, status, health and image") {
  const std::string html = RenderStack(User(), Sample());
  CHECK(Has(html, "<code>web_app_1</code><td><b class=ok>running</b> <b class=ok>healthy</b>"));
  CHECK(Has(html, "docker.io/library/nginx:1.25"));
  CHECK(Has(html, "<td>db<td><i>no container</i>"));
}

TEST_CASE("stack page: the plan's reasons as field | old | new; unknown values are said so") {
  const std::string html = RenderStack(User(), Sample());
  CHECK(Has(html, "<th>Field<th>Old<th>New"));
  CHECK(Has(html, "<code>image</code> changed<td><code>nginx:1.25</code><td><code>nginx:1.27</code>"));
  CHECK(Has(html,
            "<code>environment.MODE</code> changed<td><i>unknown: podcd keeps only a hash of it</i>"
            "<td><code>fast</code>"));
  CHECK(Has(
      html,
      "<code>labels.x</code> removed<td><i>unknown: podcd keeps only a hash of it</i><td><i>not set</i>"));
  CHECK(Has(html, "<code>environment.NEW</code> added<td><i>not set</i><td><code>1</code>"));
  CHECK(Has(html, "<td>db<td colspan=\"3\">no container"));
  StackPageView same = Sample();
  same.changes.clear();
  CHECK(Has(RenderStack(User(), same), "Nothing to do"));
}

TEST_CASE("stack page: ADMIN gets the actions, each with the CSRF token; USER none") {
  const std::string admin = RenderStack(Admin(), Sample());
  CHECK(Has(admin, "action=\"/deploy/actions/redeploy/web\""));
  CHECK(Has(admin, ">Redeploy and update</button>"));
  CHECK(Has(admin, "action=\"/deploy/actions/recreate/web\""));
  CHECK(Has(admin, ">Force recreate</button>"));
  CHECK(Has(admin, "action=\"/deploy/actions/suspend/web\""));
  CHECK(Has(admin, ">Suspend</button>"));
  CHECK_FALSE(Has(admin, ">Resume</button>"));
  CHECK_FALSE(Has(admin, ">Unpin</button>"));
  // Pin for each earlier deployment that went well at a commit: d-2 only (d-3 failed, d-1 has
  // no commit).
  const std::regex pin(
      "<form[^>]*action=\"/deploy/actions/pin/web\"><input type=\"hidden\" name=\"csrf\" "
      "value=\"c5rf\"><input type=\"hidden\" name=\"deployment\" value=\"([^\"]*)\">");
  std::vector<std::string> pinned;
  for (auto it = std::sregex_iterator(admin.begin(), admin.end(), pin); it != std::sregex_iterator(); ++it)
    pinned.push_back((*it)[1].str());
  CHECK(pinned == std::vector<std::string>{"d-2"});
  const std::regex form("<form method=\"post\"[^>]*>(.*?)</form>");
  int forms = 0;
  for (auto it = std::sregex_iterator(admin.begin(), admin.end(), form); it != std::sregex_iterator(); ++it) {
    CHECK(Has((*it)[1].str(), "name=\"csrf\" value=\"c5rf\""));
    ++forms;
  }
  CHECK(forms == 5);  // redeploy, recreate, suspend, pin d-2, log out

  const std::string user = RenderStack(User(), Sample());
  CHECK_FALSE(Has(user, "/actions/"));
  CHECK_FALSE(Has(user, "Pin"));
}

TEST_CASE("stack page: suspended and pinned are banners; Resume and Unpin replace the others") {
  StackPageView v = Sample();
  v.suspended = true;
  v.suspended_by = "user:alice";
  v.suspended_ms = v.now_ms - 3'600'000;
  v.pinned_commit = "bbbbbbbbbbbbbbbbbbbb";
  v.pinned_deployment = "d-2";
  v.pinned_by = "user:carol";
  const std::string html = RenderStack(Admin(), v);
  CHECK(Has(html,
            "<div class=\"banner\" role=\"status\"><b>Suspended</b> <time datetime=2026-12-02T07:26:40Z>"
            "1 h ago</time> by user:alice: every reconcile skips this stack until it is resumed."));
  CHECK(Has(html,
            "<b>Pinned</b> to commit <code>bbbbbbbbbbbb</code> of deployment "
            "<a href=\"/deploy/deployments/d-2\">d-2</a> by user:carol: the repository's newer commits"));
  CHECK(Has(html, ">Resume</button>"));
  CHECK_FALSE(Has(html, ">Suspend</button>"));
  CHECK(Has(html, "action=\"/deploy/actions/unpin/web\""));
  CHECK(Has(html, ">Unpin</button>"));
  CHECK_FALSE(Has(html, "name=\"deployment\" value=\"d-2\""));  // already the pin
}

TEST_CASE("stack page: the plan's notes under the plan, escaped, with or without changes") {
  StackPageView v = Sample();
  v.notes = {"services.app.develop: ignored (compose watch <sync>)"};
  std::string html = RenderStack(User(), v);
  const auto plan = html.find("<h2>Plan</h2>");
  const auto note = html.find("<li>Note: services.app.develop: ignored (compose watch &lt;sync&gt;)");
  REQUIRE(note != std::string::npos);
  CHECK(plan < note);
  CHECK(note < html.find("<h2>Recent deployments</h2>"));
  CHECK(html.find("<table class=\"diff\">") < note);  // under the diff
  // Nothing to do, and still the notes.
  v.changes.clear();
  html = RenderStack(User(), v);
  CHECK(Has(html, "Nothing to do"));
  CHECK(Has(html, "<li>Note: services.app.develop"));
  // No notes, no list.
  CHECK_FALSE(Has(RenderStack(User(), Sample()), "class=\"notes\""));
}

TEST_CASE("stack page: hostile names, values, reasons and actors are text") {
  StackPageView v = Sample();
  v.name = kEvil;
  v.services[0] = {kEvil, kEvil, kEvil, kEvil, kEvil};
  v.changes = {{kEvil, kEvil, kEvil, kEvil, kEvil}, {kEvil, "", kEvil, std::nullopt, std::nullopt}};
  v.deployments[1].id = kEvil;
  v.deployments[1].actor = kEvil;
  v.deployments[1].reason = kEvil;
  v.pinned_commit = kEvil;
  v.pinned_deployment = kEvil + "x";
  v.pinned_by = kEvil;
  v.suspended = true;
  v.suspended_by = kEvil;
  v.notes = {kEvil};
  const std::string html = RenderStack(Admin(), v);
  CHECK_FALSE(Has(html, kEvil));
  CHECK_FALSE(Has(html, "<img"));
  CHECK(Has(html, "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
  // In URLs the name is percent-encoded, then escaped.
  CHECK(
      Has(html, "action=\"/deploy/actions/redeploy/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%22%27%26\""));
  CHECK(Has(html, "name=\"deployment\" value=\"&lt;img"));
}
