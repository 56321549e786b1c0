// Who may call what (the gate's scopes, CSRF, the login pages) and the actions it audits.
#include "http/form.hpp"
#include "http/server_internal.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "web/gzip.hpp"

namespace podcd::http {

bool Server::Impl::Allowed(Exchange& x, auth::Scope needed) {
  const std::string client = ClientOf(x);
  auto identified = gate->Identify(PistacheHeaders(x.req.headers()), client, Clock::now());
  x.who = std::move(identified.principal);
  if (x.who.Known()) {
    if (!x.who.Allows(needed)) {
      const std::string why =
          x.who.Actor() + " may not do this: it needs scope " + std::string(auth::ToString(needed));
      Audit(x, std::string(x.route), x.param, "denied", why);
      if (x.html) return Reply(x, dashboard->ErrorPage(PageOf(x), 403, why)), false;
      return ReplyError(x, {ErrorCode::kPermissionDenied, why, {}}), false;
    }
    if (x.req.method() == Http::Method::Get || CsrfValid(x)) return true;
    static const std::string body = ErrorBody(
        "the request carries no valid CSRF token, or comes from another site: use the dashboard's own forms");
    Audit(x, std::string(x.route), x.param, "denied", "no valid CSRF token, or another site");
    return Reply(x, {403, body}), false;
  }
  const bool users = gate->UsersConfigured();
  if (!identified.bad_bearer && !users && Credentials().api_token.empty()) {
    ReplyError(x, {ErrorCode::kPermissionDenied,
                   "this endpoint answers only loopback clients unless api.token is set",
                   {}});
    return false;
  }
  if (!identified.bad_bearer && users && x.html) {
    return Reply(x, dashboard->ToLogin()), false;
  }
  // The limiter refuses only requests that fail.
  if (RateLimited(x, client)) return false;
  limiter.Lock()->RecordFailure(client, Clock::now());
  if (auto left_out = api_rejections_logged.Admit(Clock::now())) {
    log::Warn(
        "API request with a missing or wrong bearer token",
        {{"client", client}, {"path", x.req.resource()}, {"not_logged_before", std::to_string(*left_out)}});
  }
  x.w.headers().addRaw(Http::Header::Raw("WWW-Authenticate", "Bearer"));
  ReplyError(x, {ErrorCode::kUnauthenticated,
                 users ? "log in, or send a valid bearer token" : "missing or invalid bearer token",
                 {}});
  return false;
}

// A state-changing request from a browser: a session's requests carry its CSRF token (a form
// field or X-CSRF-Token); a loopback dashboard's must come from its own pages (Origin and
// Sec-Fetch-Site, which every browser sends and no other site can forge). Bearer tokens are
// not ambient: nothing to check.
bool Server::Impl::CsrfValid(const Exchange& x) const {
  if (x.who.via == Via::kSession) {
    auto presented = HeaderValue(x.req.headers(), "X-CSRF-Token");
    if (!presented) presented = FormValue(x.req.body(), "csrf");
    return presented && Gatekeeper::CsrfValid(x.who, *presented) && SameOrigin(x);
  }
  if (x.who.via == Via::kLoopback) return SameOrigin(x);
  return true;
}

bool Server::Impl::SameOrigin(const Exchange& x) const {
  if (auto site = HeaderValue(x.req.headers(), "Sec-Fetch-Site")) {
    if (*site != "same-origin" && *site != "none") return false;
  }
  auto origin = HeaderValue(x.req.headers(), "Origin");
  if (!origin) return true;  // not a browser, or an old one: the CSRF token still holds for sessions
  auto host = HeaderValue(x.req.headers(), "Host");
  const auto scheme_end = origin->find("://");
  return host && scheme_end != std::string::npos && origin->substr(scheme_end + 3) == *host;
}

PageRequest Server::Impl::PageOf(const Exchange& x) const {
  PageRequest p;
  p.who = x.who;
  p.param = x.param;
  p.query = x.req.query().as_str();
  if (!p.query.empty() && p.query.front() == '?') p.query.erase(0, 1);
  p.body = x.req.body().substr(0, opt.max_body_bytes);
  p.client = ClientOf(x);
  p.html = x.html;
  p.gzip = web::AcceptsGzip(HeaderValue(x.req.headers(), "Accept-Encoding").value_or(""));
  // TLS ends at a trusted proxy, which says so in X-Forwarded-Proto.
  if (clients.HasTrustedProxies() && clients.Trusted(x.req.address().host())) {
    p.secure = HeaderValue(x.req.headers(), "X-Forwarded-Proto").value_or("") == "https";
  }
  return p;
}

void Server::Impl::Page(Exchange& x, void (Dashboard::*render)(PageRequest, Dashboard::Deliver&&)) {
  Dashboard::Deliver deliver = [this, w = x.w.clone(), route = x.route, link = Deferred(x.link, x.w)](
                                   const Answer& a) mutable { Reply(w, route, a, link); };
  ((*dashboard).*render)(PageOf(x), std::move(deliver));
}

void Server::Impl::GetLogin(Exchange& x) {
  x.who = gate->Identify(PistacheHeaders(x.req.headers()), ClientOf(x), Clock::now()).principal;
  Reply(x, dashboard->LoginForm(PageOf(x)));
}

void Server::Impl::PostLogin(Exchange& x) {
  if (BodyTooLarge(x)) return;
  if (!gate->UsersConfigured()) {
    return ReplyError(x, {ErrorCode::kNotFound, "no users are configured (auth.users_file)", {}});
  }
  if (!SameOrigin(x)) return Reply(x, {403, ErrorBody("a login from another site is refused")});
  Page(x, &Dashboard::Login);
}

void Server::Impl::PostDeploy(Exchange& x) {
  if (BodyTooLarge(x)) return;
  auto parsed = ParseDeployRequest(x.req.body());
  if (!parsed.request) return ReplyError(x, {ErrorCode::kInvalidArgument, parsed.error, {}});
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.all_changed = parsed.request->all_changed;
  t.pull = parsed.request->pull;
  t.force = parsed.request->force;
  t.pull_uploaded = parsed.request->pull_uploaded;
  t.pull = t.pull || t.pull_uploaded;
  t.actor = x.who.Actor();
  for (const auto& s : parsed.request->stacks) {
    if (!IsValidStackName(s)) {
      return ReplyError(
          x, {ErrorCode::kInvalidArgument, "not a valid stack name: " + json::Quoted(s.substr(0, 80)), {}});
    }
    if (!catalog.Exists(s)) return ReplyError(x, {ErrorCode::kNotFound, "unknown stack \"" + s + "\"", {}});
    if (std::find(t.stacks.begin(), t.stacks.end(), s) == t.stacks.end()) t.stacks.push_back(s);
  }
  const std::string target = t.all_changed ? "all changed" : Join(t.stacks, ",");
  auto r = queue.Enqueue(std::move(t));
  if (!r) {
    Audit(x, "deploy", target, "failed", r.error().message);
    return ReplyError(x, QueueError(r.error()));
  }
  log::Info("deploy requested through the API", {{"deployment", r->id}, {"actor", x.who.Actor()}});
  Queued(x, "deploy", target, r->id);
}

void Server::Impl::PostAction(Exchange& x, ActionKind kind) {
  if (BodyTooLarge(x)) return;
  auto t = ParseAction(
      {kind, x.param, HeaderValue(x.req.headers(), "Content-Type").value_or(""), x.req.body(), x.who.Actor()},
      [this](const std::string& s) { return catalog.Exists(s); });
  const std::string action(ToString(kind));
  if (!t) {
    Audit(x, action, x.param, "refused", t.error().message);
    return ReplyError(x, t.error());
  }
  auto r = queue.Enqueue(std::move(*t));
  if (!r) {
    Audit(x, action, x.param, "failed", r.error().message);
    return ReplyError(x, QueueError(r.error()));
  }
  log::Info("action requested through the API",
            {{"action", action}, {"deployment", r->id}, {"actor", x.who.Actor()}});
  Queued(x, action, x.param, r->id);
}

void Server::Impl::Audit(const Exchange& x, std::string action, std::string target, std::string result,
                         std::string detail) {
  if (!audit) return;
  state::AuditEntry e;
  e.actor = x.who.Known() ? x.who.Actor() : "anonymous";
  e.address = ClientOf(x);
  e.action = std::move(action);
  e.target = std::move(target);
  e.result = std::move(result);
  e.detail = std::move(detail);
  if (auto r = audit->Append(std::move(e)); !r)
    log::Warn("audit entry not written", {{"error", r.error().What()}});
}

void Server::Impl::Controlled(Exchange& x, std::string_view action, const Answer& answer) {
  const bool done = answer.status < 300;
  Audit(x, std::string(action), x.param, done ? "ok" : "refused", done ? "" : answer.body.substr(0, 300));
  if (!x.html || !done) return Reply(x, answer);
  Answer back{303, "", kTextType};
  back.headers.emplace_back("Location", opt.base_path + "/stacks/" + x.param);
  Reply(x, back);
}

void Server::Impl::Queued(Exchange& x, std::string_view action, const std::string& target,
                          const std::string& id) {
  Audit(x, std::string(action), target, "queued", id);
  if (!x.html) return Accepted(x, id);
  Answer a{303, "", kTextType};
  a.headers.emplace_back("Location", opt.base_path + "/deployments/" + id);
  Reply(x, a);
}

}  // namespace podcd::http
