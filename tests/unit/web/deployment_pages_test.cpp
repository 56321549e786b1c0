// The deployments list with its filters, one deployment with its live log, the webhook
// deliveries and the audit: content, links under the base path, hostile values escaped.
#include <catch2/catch.hpp>

#include "web/audit_page.hpp"
#include "web/deliveries_page.hpp"
#include "web/deployment_page.hpp"
#include "web/deployments_page.hpp"

using namespace podcd::web;

namespace {

const std::string kEvil = "<img src=x onerror=alert(1)>\"'&";
constexpr std::int64_t kNow = 1'796'200'000'000;

PageContext User() { return {"/deploy", "bob", false, "c5rf"}; }

bool Has(const std::string& html, const std::string& part) { return html.find(part) != std::string::npos; }

void NoMarkupFrom(const std::string& html) {
  CHECK_FALSE(Has(html, kEvil));
  CHECK_FALSE(Has(html, "<img"));
  CHECK(Has(html, "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
  CHECK_FALSE(Has(html, "<script>"));
}

DeploymentView Running() {
  DeploymentView v;
  v.id = "20261202-104500-000001";
  v.state = "running";
  v.trigger = "redeploy-and-update";
  v.actor = "user:alice";
  v.named_stacks = {"web"};
  v.pull = true;
  v.commit = "9ce009c2a1b2";
  v.queued_ms = kNow - 10'000;
  v.started_ms = kNow - 9'000;
  v.stacks = {{"web", "updated", "", 4'200}};
  v.log = {"[web] pulling nginx:1.27", "[web] <done> & ok"};
  v.now_ms = kNow;
  return v;
}

}  // namespace

TEST_CASE("deployments: the filters are a GET form keeping their values; rows link to each") {
  DeploymentsView v;
  v.now_ms = kNow;
  v.filter = {"web", "failed", "user:alice"};
  v.deployments = {{"d-2",
                    "failed",
                    "deploy-all-changed",
                    "user:alice",
                    "9ce009c2a1b2c3",
                    "health gate",
                    kNow - 60'000,
                    kNow - 30'000,
                    {{"web", "rolled-back"}, {"db", "unchanged"}}}};
  const std::string html = RenderDeployments(User(), v);
  CHECK(Has(html, "<form class=\"filters\" method=\"get\" action=\"/deploy/deployments\">"));
  CHECK(Has(html, "name=\"stack\" value=\"web\""));
  CHECK(Has(html, "<option selected>failed</option>"));
  CHECK(Has(html, "name=\"actor\" value=\"user:alice\""));
  CHECK(Has(html, "<a href=\"/deploy/deployments/d-2\"><time"));
  CHECK(Has(html, "<b class=bad>failed</b><p class=why>health gate"));
  CHECK(Has(html, "<td>deploy-all-changed<td>user:alice<td><code>9ce009c2a1b2</code>"));
  CHECK(Has(html, "<p>web <b class=bad>rolled-back</b><p>db <b class=ok>unchanged</b>"));
  CHECK(Has(RenderDeployments(User(), DeploymentsView{}), "no deployments"));

  v.filter = {kEvil, kEvil, kEvil};
  v.deployments[0] = {kEvil, kEvil, kEvil, kEvil, kEvil, kEvil, kNow, kNow, {{kEvil, kEvil}}};
  NoMarkupFrom(RenderDeployments(User(), v));
}

TEST_CASE("deployment: state and log where the browser test looks; a running one is followed") {
  const std::string html = RenderDeployment(User(), Running());
  CHECK(Has(html, "<span id=\"deployment-state\" class=\"ok\">running</span>"));
  CHECK(Has(html,
            "<pre id=\"log\" class=\"log\" data-events=\"/deploy/deployments/20261202-104500-000001/events\" "
            "data-lines=\"2\">"
            "[web] pulling nginx:1.27\n[web] &lt;done&gt; &amp; ok\n</pre>"));
  CHECK(Has(html, "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript></head>"));
  CHECK(Has(html, "<dt>Actor<dd>user:alice"));
  CHECK(Has(html, "redeploy-and-update, stacks <a href=\"/deploy/stacks/web\">web</a>, pulling images"));
  CHECK(Has(html, "<dt>Commit<dd><code>9ce009c2a1b2</code>"));
  CHECK(Has(html, "<b class=ok>updated</b><td><td>4.2 s"));
  CHECK_FALSE(Has(html, "<script>"));

  DeploymentView done = Running();
  done.state = "failed";
  done.reason = "failed stacks: web";
  done.finished_ms = kNow - 1'000;
  const std::string finished = RenderDeployment(User(), done);
  CHECK(Has(finished, "<span id=\"deployment-state\" class=\"bad\">failed</span>"));
  CHECK_FALSE(Has(finished, "data-events"));
  CHECK_FALSE(Has(finished, "http-equiv=\"refresh\""));
  CHECK(Has(finished, "<dt>Reason<dd>failed stacks: web"));
  CHECK(Has(finished, "after 8.0 s"));
}

TEST_CASE("deployment: hostile values are text") {
  DeploymentView v = Running();
  v.id = kEvil;
  v.trigger = v.actor = v.event = v.delivery_id = v.commit = v.reason = v.superseded_by = kEvil;
  v.named_stacks = {kEvil};
  v.stacks = {{kEvil, kEvil, kEvil, 1}};
  v.log = {kEvil, "</pre><script>alert(1)</script>"};
  const std::string html = RenderDeployment(User(), v);
  NoMarkupFrom(html);
  CHECK(Has(html, "&lt;/pre&gt;&lt;script&gt;"));
  CHECK(Has(html, "data-events=\"/deploy/deployments/%3Cimg"));
}

TEST_CASE("deliveries: accepted and rejected with the reason and the deployment") {
  DeliveriesView v;
  v.now_ms = kNow;
  v.deliveries = {
      {kNow - 5'000, "192.0.2.7", "/webhook/deploy-all-changed", "push", "abc-123", true, "", "d-9"},
      {kNow - 9'000, "198.51.100.1", "/webhook/deploy-all-changed", "push", "", false, "signature mismatch",
       ""}};
  const std::string html = RenderDeliveries(User(), v);
  CHECK(Has(html,
            "<td>192.0.2.7<td><code>/webhook/deploy-all-changed</code><td>push<td><code>abc-123</code>"
            "<td><b class=ok>accepted</b><td><a href=\"/deploy/deployments/d-9\">d-9</a>"));
  CHECK(Has(html, "<b class=bad>rejected</b><p class=why>signature mismatch<td><i>none</i>"));
  CHECK(Has(RenderDeliveries(User(), DeliveriesView{}), "no deliveries"));
  v.deliveries = {{kNow, kEvil, kEvil, kEvil, kEvil, false, kEvil, kEvil}};
  NoMarkupFrom(RenderDeliveries(User(), v));
}

TEST_CASE("audit: time, actor, address, action, target and result") {
  AuditView v;
  v.now_ms = kNow;
  v.entries = {{kNow - 60'000, "user:alice", "192.0.2.7", "suspend", "web", "ok", ""},
               {kNow - 120'000, "user:mallory", "203.0.113.5", "login", "", "denied", "wrong password"}};
  const std::string html = RenderAudit(User(), v);
  CHECK(Has(html, "<td>user:alice<td>192.0.2.7<td>suspend<td>web<td><b class=ok>ok</b>"));
  CHECK(Has(
      html,
      "<td>user:mallory<td>203.0.113.5<td>login<td><td><b class=bad>denied</b><p class=why>wrong password"));
  CHECK(Has(html, "2026-12-02 08:25:40 UTC"));
  v.entries = {{kNow, kEvil, kEvil, kEvil, kEvil, kEvil, kEvil}};
  NoMarkupFrom(RenderAudit(User(), v));
}
