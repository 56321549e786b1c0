#include "http/dashboard.hpp"

#include <algorithm>

#include "http/dashboard_views.hpp"
#include "http/form.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "web/assets.hpp"
#include "web/audit_page.hpp"
#include "web/deliveries_page.hpp"
#include "web/deployment_page.hpp"
#include "web/deployments_page.hpp"
#include "web/gzip.hpp"
#include "web/html.hpp"
#include "web/login_page.hpp"
#include "web/page.hpp"
#include "web/stack_page.hpp"
#include "web/stacks_page.hpp"

namespace podcd::http {
namespace {

constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

// A page: the security headers every page is sent with (web/page.hpp), but the content type,
// which the Answer carries.
Answer PageAnswer(int status, std::string body) {
  Answer a{status, std::move(body), kHtmlType};
  for (auto& [name, value] : web::PageHeaders()) {
    if (name != "Content-Type") a.headers.emplace_back(std::move(name), std::move(value));
  }
  return a;
}

Answer Redirect(std::string location) {
  Answer a{303, "", kTextType};
  a.headers.emplace_back("Location", std::move(location));
  a.headers.emplace_back("Cache-Control", "no-store");
  return a;
}

}  // namespace

namespace {
web::PageContext ContextOf(const DashboardOptions& o, const Principal& who) {
  web::PageContext ctx;
  ctx.base_path = o.base_path;
  ctx.user = who.via == Via::kSession || who.via == Via::kToken ? who.user : who.Actor();
  ctx.admin = who.Allows(auth::Scope::kDeploy);
  ctx.csrf = who.csrf;
  return ctx;
}
}  // namespace

bool WantsHtml(std::string_view accept) {
  // Browsers ask for text/html before anything else; API clients send */*, JSON or nothing.
  const auto html = accept.find("text/html");
  if (html == std::string_view::npos) return false;
  const auto json = accept.find("application/json");
  return json == std::string_view::npos || html < json;
}

Dashboard::Dashboard(DashboardOptions options, state::Store& store, StackCatalog& catalog, Gatekeeper& gate,
                     state::AuditLog* audit)
    : options_(std::move(options)), store_(store), catalog_(catalog), gate_(gate), audit_(audit) {}

void Dashboard::Record(const PageRequest& request, std::string actor, std::string action,
                       std::string result) const {
  if (!audit_) return;
  state::AuditEntry e;
  e.actor = std::move(actor);
  e.address = request.client;
  e.action = std::move(action);
  e.result = std::move(result);
  if (auto r = audit_->Append(std::move(e)); !r)
    log::Warn("audit entry not written", {{"error", r.error().What()}});
}

Answer Dashboard::Audit(const PageRequest& request) const {
  state::AuditFilter filter;
  filter.actor = FormValue(request.query, "actor").value_or("").substr(0, 128);
  filter.action = FormValue(request.query, "action").value_or("").substr(0, 64);
  filter.target = FormValue(request.query, "target").value_or("").substr(0, 128);
  const auto entries = audit_ ? audit_->List(200, filter) : std::vector<state::AuditEntry>{};
  if (!request.html) {
    std::string body = "{\"audit\":[";
    for (std::size_t i = 0; i < entries.size(); ++i) body += (i ? "," : "") + state::ToJson(entries[i]);
    return {200, body + "]}"};
  }
  web::AuditView view;
  for (const auto& e : entries) {
    view.entries.push_back({e.at_ms, e.actor, e.address, e.action, e.target, e.result, e.detail});
  }
  view.now_ms = state::NowMs();
  return PageOf(request, 200, web::RenderAudit(ContextOf(options_, request.who), view));
}

void Dashboard::Start() {
  pages_.Start();
  logins_.Start();
}

void Dashboard::Stop() {
  pages_.Stop();
  logins_.Stop();
}

// Runs `render` on `thread`; a full or stopped queue is answered 503 at once.
void Dashboard::OnThread(Background& thread, Deliver&& deliver, std::move_only_function<Answer()> render) {
  auto shared = std::make_shared<Deliver>(std::move(deliver));
  Background::Job job = [shared, render = std::move(render)]() mutable { (*shared)(render()); };
  if (!thread.Submit(job))
    (*shared)({503, ErrorBody("podcd is busy or shutting down; retry"), kJsonType, true});
}

void Dashboard::Home(PageRequest request, Deliver&& deliver) {
  OnThread(pages_, std::move(deliver), [this, request = std::move(request)] { return RenderHome(request); });
}

Answer Dashboard::RenderHome(const PageRequest& request) {
  auto listed = catalog_.List();
  if (!listed) return ErrorPage(request, 503, "The stacks cannot be observed now: " + listed.error().message);
  web::StacksView view;
  view.now_ms = state::NowMs();
  view.repo.branch = options_.branch;
  // Every deployment syncs first: the newest one's commit is the work tree's.
  for (const auto& d : store_.List(20)) {
    if (d.commit.empty()) continue;
    view.repo.commit = d.commit;
    break;
  }
  // Each sync of a worker is reported to the daemon's metrics.
  if (auto synced = metrics::Value("podcd_last_successful_sync_timestamp_seconds"))
    view.repo.last_sync_ms = static_cast<std::int64_t>(*synced * 1000);
  // The daemon's remote check (daemon/remote_watch.hpp); a sync since it answered is newer news.
  auto ahead = metrics::Value("podcd_repo_remote_ahead");
  auto checked = metrics::Value("podcd_repo_remote_check_timestamp_seconds");
  view.repo.remote_ahead =
      ahead && *ahead == 1 && checked && static_cast<std::int64_t>(*checked * 1000) >= view.repo.last_sync_ms;
  view.stacks.reserve(listed->size());
  for (const auto& info : *listed) {
    std::optional<state::Deployment> last;
    if (!info.last_deployment.empty()) last = store_.Get(info.last_deployment);
    view.stacks.push_back(StackViewOf(info, last ? &*last : nullptr));
  }
  return PageOf(request, 200, web::RenderStacks(ContextOf(options_, request.who), view));
}

// A page, gzip-compressed when the client takes it (the front page for 500 stacks: 149 KB, 7 KB).
Answer Dashboard::PageOf(const PageRequest& request, int status, std::string html) const {
  if (request.gzip && html.size() > 1024) {
    if (auto packed = web::Gzip(html)) {
      Answer a = PageAnswer(status, std::move(*packed));
      a.headers.emplace_back("Content-Encoding", "gzip");
      a.headers.emplace_back("Vary", "Accept-Encoding");
      return a;
    }
  }
  return PageAnswer(status, std::move(html));
}

void Dashboard::Stack(PageRequest request, Deliver&& deliver) {
  OnThread(pages_, std::move(deliver), [this, request = std::move(request)] { return RenderStack(request); });
}

Answer Dashboard::RenderStack(const PageRequest& request) {
  auto listed = catalog_.List();
  if (!listed) {
    if (!request.html) return {503, ErrorBody(listed.error().message)};
    return ErrorPage(request, 503, "The stacks cannot be observed now: " + listed.error().message);
  }
  auto it = std::find_if(listed->begin(), listed->end(),
                         [&](const StackInfo& s) { return s.name == request.param; });
  if (it == listed->end()) {
    if (!request.html) return {404, ErrorBody("unknown stack")};
    return ErrorPage(request, 404, "There is no stack named " + request.param + ".");
  }
  const auto recent = store_.List(200);
  if (!request.html) return {200, StacksBody({*it}, recent)};
  return PageOf(request, 200,
                web::RenderStack(ContextOf(options_, request.who), StackPageOf(*it, recent, state::NowMs())));
}

Answer Dashboard::Deployments(const PageRequest& request) const {
  web::DeploymentsView view;
  view.filter.stack = FormValue(request.query, "stack").value_or("").substr(0, 64);
  view.filter.state = FormValue(request.query, "state").value_or("").substr(0, 16);
  view.filter.actor = FormValue(request.query, "actor").value_or("").substr(0, 128);
  for (const auto& d : store_.List(SIZE_MAX)) {
    if (!Matches(d, view.filter)) continue;
    view.deployments.push_back(SummaryOf(d));
    if (view.deployments.size() >= 100) break;
  }
  view.now_ms = state::NowMs();
  return PageOf(request, 200, web::RenderDeployments(ContextOf(options_, request.who), view));
}

Answer Dashboard::Deployment(const PageRequest& request) const {
  auto d = store_.Get(request.param);
  if (!d) return ErrorPage(request, 404, "There is no deployment " + request.param + ".");
  return PageOf(
      request, 200,
      web::RenderDeployment(ContextOf(options_, request.who), DeploymentViewOf(*d, state::NowMs())));
}

Answer Dashboard::Deliveries(const PageRequest& request, const DeliveryLog& log) const {
  web::DeliveriesView view;
  for (const auto& e : log.Recent(200)) view.deliveries.push_back(DeliveryViewOf(e));
  view.now_ms = state::NowMs();
  return PageOf(request, 200, web::RenderDeliveries(ContextOf(options_, request.who), view));
}

Answer Dashboard::LoginForm(const PageRequest& request) const {
  if (request.who.Known()) return Redirect(options_.base_path + "/");
  web::PageContext ctx;
  ctx.base_path = options_.base_path;
  return PageAnswer(200, web::RenderLogin(ctx, "", ""));
}

void Dashboard::Login(PageRequest request, Deliver&& deliver) {
  OnThread(logins_, std::move(deliver), [this, request = std::move(request)] { return CheckLogin(request); });
}

Answer Dashboard::CheckLogin(const PageRequest& request) {
  {
    const std::string user = FormValue(request.body, "username").value_or("").substr(0, 128);
    const std::string password = FormValue(request.body, "password").value_or("").substr(0, 1024);
    auto result = gate_.Login(user, password, request.client, Gatekeeper::Clock::now());
    log::Info(result.session ? "login" : "login refused",
              {{"user", user}, {"client", request.client}, {"outcome", result.outcome}});
    Record(request, "user:" + user, "login", result.outcome);
    if (!result.session) {
      web::PageContext ctx;
      ctx.base_path = options_.base_path;
      // The same answer whether the user exists, the password is wrong or the limiter refused.
      return PageAnswer(401, web::RenderLogin(ctx, web::kLoginFailed, user));
    }
    Answer a = Redirect(options_.base_path + "/");
    a.headers.emplace_back("Set-Cookie",
                           SessionCookie(result.session->id, options_.base_path, request.secure));
    return a;
  }
}

Answer Dashboard::Logout(const PageRequest& request) {
  if (!request.who.session_id.empty()) gate_.Logout(request.who.session_id);
  log::Info("logout", {{"user", request.who.user}, {"client", request.client}});
  Record(request, request.who.Actor(), "logout", "ok");
  Answer a = Redirect(options_.base_path + "/login");
  a.headers.emplace_back("Set-Cookie", ClearedSessionCookie(options_.base_path, request.secure));
  return a;
}

Answer Dashboard::Static(std::string_view file) {
  const web::Asset* asset = web::FindAsset(file);
  if (!asset) return {404, ErrorBody("no such file"), kJsonType};
  Answer a{200, std::string(asset->body), asset->content_type};
  a.headers.emplace_back("Cache-Control", "max-age=300");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return a;
}

Answer Dashboard::ToLogin() const { return Redirect(options_.base_path + "/login"); }

Answer Dashboard::ErrorPage(const PageRequest& request, int status, std::string_view message) const {
  const std::string body = "<h1>" + std::to_string(status) + "</h1><div class=\"banner\" role=\"alert\">" +
                           web::Escape(message) + "</div>";
  return PageAnswer(status, web::Page(ContextOf(options_, request.who), "Error", body));
}

}  // namespace podcd::http
