#include "http/dashboard.hpp"

#include <algorithm>

#include "http/form.hpp"
#include "util/log.hpp"
#include "web/assets.hpp"
#include "web/html.hpp"
#include "web/login_page.hpp"
#include "web/page.hpp"
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

bool WantsHtml(std::string_view accept) {
  // Browsers ask for text/html before anything else; API clients send */*, JSON or nothing.
  const auto html = accept.find("text/html");
  if (html == std::string_view::npos) return false;
  const auto json = accept.find("application/json");
  return json == std::string_view::npos || html < json;
}

Dashboard::Dashboard(DashboardOptions options, state::Store& store, StackCatalog& catalog, Gatekeeper& gate)
    : options_(std::move(options)), store_(store), catalog_(catalog), gate_(gate) {}

void Dashboard::Start() {
  pages_.Start();
  logins_.Start();
}

void Dashboard::Stop() {
  pages_.Stop();
  logins_.Stop();
}

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
  const auto recent = store_.List(1);
  if (!recent.empty()) {
    view.repo.commit = recent.front().commit;
    view.repo.last_sync_ms = recent.front().started_at_ms;
  }
  view.stacks.reserve(listed->size());
  for (const auto& info : *listed) {
    web::StackView s;
    s.name = info.name;
    s.state = info.state;
    s.commit = info.commit;
    s.last_deployment = info.last_deployment;
    if (!info.last_deployment.empty()) {
      if (auto d = store_.Get(info.last_deployment)) {
        s.last_deployment_ms = d->started_at_ms != 0 ? d->started_at_ms : d->queued_at_ms;
        for (const auto& outcome : d->stacks) {
          if (outcome.name != info.name) continue;
          s.last_outcome = outcome.outcome;
          if (s.state != "in-sync") s.reason = outcome.reason.substr(0, outcome.reason.find('\n'));
        }
      }
    }
    view.stacks.push_back(std::move(s));
  }
  return PageAnswer(200, web::RenderStacks(ContextOf(options_, request.who), view));
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
