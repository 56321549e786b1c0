#include "http/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/actions.hpp"
#include "http/answers.hpp"
#include "http/dashboard.hpp"
#include "http/deferred_answers.hpp"
#include "http/delivery_log.hpp"
#include "http/form.hpp"
#include "http/gate.hpp"
#include "http/link.hpp"
#include "http/stack_controls_api.hpp"
#include "http/waiting_answers.hpp"
#include "http/warn_throttle.hpp"
#include "http/webhook.hpp"
#include "state/audit.hpp"
#include "util/guarded.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"
#include "web/gzip.hpp"

namespace podcd::http {
namespace Http = Pistache::Http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxResponseBytes = 64u << 20;
constexpr std::int64_t kDefaultListLimit = 20;
constexpr std::int64_t kMaxListLimit = 100;
// A list answer carries the last lines of each log (bounded size); the record has them all.
constexpr std::size_t kListLogLines = 50;
// The metrics label of a request whose path no route has.
constexpr std::string_view kUnknownRoute = "other";
// The metrics label of a ?wait= answer, written by the waiting thread (as it always was).
constexpr std::string_view kWaiterRoute = "deferred";

// A header's value whether Pistache kept it raw or parsed it into a typed header.
std::optional<std::string> HeaderValue(const Http::Header::Collection& headers, const std::string& name) {
  if (auto raw = headers.tryGetRaw(name)) return raw->value();
  if (auto typed = headers.tryGet(name)) {
    std::ostringstream os;
    typed->write(os);
    return os.str();
  }
  return std::nullopt;
}

// Pistache's request headers, as the pure webhook functions read them.
class PistacheHeaders final : public RequestHeaders {
 public:
  explicit PistacheHeaders(const Http::Header::Collection& headers) : headers_(headers) {}
  std::optional<std::string> Get(std::string_view name) const override {
    return HeaderValue(headers_, std::string(name));
  }

 private:
  const Http::Header::Collection& headers_;
};

std::size_t HeaderBytes(const Http::Request& req) {
  std::size_t n = 0;
  for (const auto& [name, raw] : req.headers().rawList()) n += name.size() + raw.value().size() + 4;
  for (const auto& h : req.headers().list()) n += std::string_view(h->name()).size() + 64;
  return n;
}

bool ValidDeploymentId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-'; });
}

const std::string& ShuttingDownBody() {
  static const std::string body = ErrorBody("podcd is shutting down");
  return body;
}

// The queue refusing work is never the client's fault: 503 when it is full or stopping,
// else an internal error.
Error QueueError(const Error& e) {
  return {e.code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal, e.message,
          e.context};
}

// The names of what the server keeps on a Pistache connection (Tcp::Peer data).
const std::string kConnectionKey = "podcd.conn";  // short enough for no allocation per lookup
const std::string kForwardedKey = "podcd.xff";
// A delivery that was answered "ignored" is remembered under this in place of a deployment id.
constexpr std::string_view kIgnoredDelivery = "ignored";

// One admitted connection's place in the ConnectionTable, given back once: when Pistache reports
// the connection gone, or at the latest when the connection's data is destroyed with it.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<Guarded<ConnectionTable>> table, std::string key)
      : table_(std::move(table)), key_(std::move(key)) {}
  ~ConnectionSlot() { Release(); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  void Release() {
    if (!released_.exchange(true)) table_->Lock()->Close(key_);
  }

 private:
  std::shared_ptr<Guarded<ConnectionTable>> table_;
  std::string key_;
  std::atomic<bool> released_{false};
};

// Who may call a route.
enum class Access {
  kAnyone,
  kSigned,  // a webhook: a valid signature, under the failed-auth limit and the body limit
  // A principal (http/gate.hpp) whose scope allows reading, deploying, or everything: a session
  // or a token once users exist; api.token; without either, loopback clients.
  kRead,
  kDeploy,
  kAdmin,
};

}  // namespace

ServerOptions OptionsFromConfig(const config::Config& c) {
  ServerOptions o;
  o.host = c.listen.host;
  o.port = c.listen.port;
  o.secret = c.webhook.secret;
  o.api_token = c.api.token;
  o.max_body_bytes = static_cast<std::size_t>(c.webhook.max_body_bytes);
  o.max_header_bytes = static_cast<std::size_t>(c.webhook.max_header_bytes);
  o.auth_failures_per_minute = c.webhook.auth_failures_per_minute;
  o.request_timeout = c.webhook.request_timeout;
  o.trusted_proxies = c.trusted_proxies;
  o.max_connections = static_cast<std::size_t>(c.webhook.max_connections);
  o.max_connections_per_address = static_cast<std::size_t>(c.webhook.max_connections_per_address);
  o.users_file = c.auth.users_file;
  o.tokens_file = auth::TokensFile(c.state_dir).string();
  o.base_path = c.http.base_path;
  o.audit_dir = c.state_dir;
  o.branch = c.repo.branch;
  o.state_dir = c.state_dir;
  return o;
}

struct Server::Impl {
  Impl(ServerOptions o, state::Store& s, reconcile::WorkQueue& q, StackCatalog& c, DeferredAnswers& a,
       std::unique_ptr<DeferredAnswers> own)
      : opt(std::move(o)),
        credentials(Secrets{opt.secret, opt.api_token}),
        store(s),
        queue(q),
        catalog(c),
        answers(a),
        own_answers(std::move(own)),
        limiter(opt.auth_failures_per_minute),
        clients(opt.trusted_proxies),
        connections(std::make_shared<Guarded<ConnectionTable>>(
            ConnectionTable(opt.max_connections, opt.max_connections_per_address))),
        waits(s, opt.max_waiting_requests),
        controls(opt.state_dir.empty() ? "" : state::StackControlsPath(opt.state_dir).string(), s, q, c) {}

  // One request being handled: the route is the metrics label, `param` what {stack} or {id} matched.
  struct Exchange {
    const Http::Request& req;
    Http::ResponseWriter& w;
    std::string_view route;
    std::string param;
    Link link;
    // Every X-Forwarded-For line of the request (with trusted proxies), nullopt when unreadable.
    std::optional<std::vector<std::string>> forwarded;
    std::string path;   // the request's path without http.base_path
    bool html = false;  // a browser: pages, and a redirect to the login instead of a 401
    Principal who;      // set by Admitted for kRead, kDeploy and kAdmin routes
  };
  using HandlerFn = void (Impl::*)(Exchange&);
  struct Route {
    Http::Method method;
    std::string_view pattern;  // a trailing {name} matches the rest of the path
    Access access;
    HandlerFn handle;
  };
  static const std::array<Route, 24> kRoutes;

  ServerOptions opt;  // secret and api_token: read from `credentials` (SIGHUP replaces them)
  struct Secrets {
    std::string secret;
    std::string api_token;
  };
  Guarded<Secrets> credentials;
  Secrets Credentials() { return *credentials.Lock(); }
  state::Store& store;
  reconcile::WorkQueue& queue;
  StackCatalog& catalog;
  DeferredAnswers& answers;
  std::unique_ptr<DeferredAnswers> own_answers;  // when the caller gave none
  Guarded<AuthFailureLimiter> limiter;
  std::unique_ptr<Gatekeeper> gate;  // opened by Start()
  std::unique_ptr<Dashboard> dashboard;
  std::unique_ptr<state::AuditLog> audit;  // opened by Start() when opt.audit_dir is set
  LogStreams streams{store, 64};
  DeliveryLog deliveries;
  // A webhook request's answer, for GET /deliveries (never its body or signature).
  void Delivered(const Exchange& x, int status, std::string_view outcome, std::string reason = {},
                 std::string deployment = {});
  // A flood of rejections writes one warning a second, which counts the ones left out.
  WarnThrottle webhook_rejections_logged;
  WarnThrottle api_rejections_logged;
  const ClientResolver clients;
  // Without trusted proxies X-Forwarded-For is never read. A trusted proxy's request whose header
  // block could not be read (folded lines, a request pipelined behind another in one read) is
  // from nobody in particular: never the proxy's own (loopback) address.
  std::string ClientOf(const Exchange& x) const {
    const std::string peer = x.req.address().host();
    if (!x.forwarded && clients.HasTrustedProxies() && clients.Trusted(peer)) return "unknown";
    return clients.ClientOf(peer, x.forwarded.value_or(std::vector<std::string>{}));
  }
  std::shared_ptr<Guarded<ConnectionTable>> connections;
  void Connected(Pistache::Tcp::Peer& peer);
  void Disconnected(Pistache::Tcp::Peer& peer);
  // Before and after Pistache reads a connection's bytes: false drops them (a refused connection).
  bool Receiving(std::string_view bytes, Pistache::Tcp::Peer& peer);
  void Received(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Guards no data: it makes the duplicate check, the enqueue and the remembering one step.
  std::mutex trigger_mutex;

  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> in_flight{0};
  WaitingAnswers waits;
  StackControlsApi controls;

  std::unique_ptr<Http::Endpoint> endpoint;
  Guarded<bool> shut_down{false};  // held for the whole shutdown: a second caller waits, then returns

  void Handle(const Http::Request& req, Http::ResponseWriter w);
  const Route* Resolve(Exchange& x);
  static std::string AllowedMethods(std::string_view path);
  bool Admitted(Exchange& x, Access access);
  void Reply(Http::ResponseWriter& w, std::string_view route, const Answer& answer, const Link& link);
  void Reply(Exchange& x, const Answer& answer) { Reply(x.w, x.route, answer, x.link); }
  void ReplyError(Exchange& x, const Error& e) { Reply(x, ErrorAnswer(e)); }
  bool Allowed(Exchange& x, auth::Scope needed);
  bool CsrfValid(const Exchange& x) const;
  bool SameOrigin(const Exchange& x) const;
  PageRequest PageOf(const Exchange& x) const;
  void Page(Exchange& x, void (Dashboard::*render)(PageRequest, Dashboard::Deliver&&));
  bool SignatureValid(Exchange& x);
  bool RateLimited(Exchange& x, const std::string& client);
  bool BodyTooLarge(Exchange& x);
  void Accepted(Exchange& x, const std::string& id);
  void Defer(Exchange& x, DeferredAnswers::Route route);

  void GetHealth(Exchange& x) { Defer(x, DeferredAnswers::Route::kHealth); }
  void GetMetrics(Exchange& x) { Defer(x, DeferredAnswers::Route::kMetrics); }
  void GetStacks(Exchange& x) {
    if (x.html) return GetHome(x);
    Defer(x, DeferredAnswers::Route::kStacks);
  }
  void GetHome(Exchange& x) { Page(x, &Dashboard::Home); }
  void GetStack(Exchange& x) { Page(x, &Dashboard::Stack); }
  void GetAudit(Exchange& x) { Reply(x, dashboard->Audit(PageOf(x))); }
  void GetLogin(Exchange& x);
  void PostLogin(Exchange& x);
  void PostLogout(Exchange& x) { Reply(x, dashboard->Logout(PageOf(x))); }
  void GetStatic(Exchange& x) { Reply(x, Dashboard::Static(x.param)); }
  void PostDeployAllChanged(Exchange& x) { Trigger(x, TriggerEndpoint::kDeployAllChanged); }
  void PostRedeployAndUpdate(Exchange& x) { Trigger(x, TriggerEndpoint::kRedeployAndUpdate); }
  void PostDeploy(Exchange& x);
  void PostActionDeployAllChanged(Exchange& x) { PostAction(x, ActionKind::kDeployAllChanged); }
  void PostActionSync(Exchange& x) { PostAction(x, ActionKind::kSync); }
  void PostActionRedeploy(Exchange& x) { PostAction(x, ActionKind::kRedeploy); }
  void PostActionRecreate(Exchange& x) { PostAction(x, ActionKind::kRecreate); }
  void PostAction(Exchange& x, ActionKind kind);
  // Who did what, in <state_dir>/audit.log: every action asked for, granted or not.
  void Audit(const Exchange& x, std::string action, std::string target, std::string result,
             std::string detail = {});
  // An action's answer: 202 with the deployment for the API, 303 to its page for a browser's form.
  void Queued(Exchange& x, std::string_view action, const std::string& target, const std::string& id);
  // Stack controls (http/stack_controls_api.hpp): audited; a browser's form goes back to the stack.
  std::string ContentType(Exchange& x) { return HeaderValue(x.req.headers(), "Content-Type").value_or(""); }
  void Controlled(Exchange& x, std::string_view action, const Answer& answer);
  void PostSuspend(Exchange& x) {
    if (!BodyTooLarge(x))
      Controlled(x, "suspend", controls.Suspend(x.param, x.req.body(), ContentType(x), x.who.Actor()));
  }
  void PostResume(Exchange& x) { Controlled(x, "resume", controls.Resume(x.param, x.who.Actor())); }
  void PostPin(Exchange& x) {
    if (!BodyTooLarge(x))
      Controlled(x, "pin", controls.Pin(x.param, x.req.body(), ContentType(x), x.who.Actor()));
  }
  void PostUnpin(Exchange& x) { Controlled(x, "unpin", controls.Unpin(x.param, x.who.Actor())); }
  void GetDeployments(Exchange& x);
  void GetDeployment(Exchange& x);
  void GetEvents(Exchange& x, std::string id);
  void Trigger(Exchange& x, TriggerEndpoint ep);
  void GetDeliveries(Exchange& x);
  // The deployment a delivery key already started (or kIgnoredDelivery), else the one queued for
  // `t`, or with no `t` the key remembered as ignored; `duplicate` tells which.
  Expected<std::string> EnqueueTrigger(std::optional<state::Trigger> t, const std::string& delivery,
                                       bool& duplicate);
  void ReplyDuplicate(Exchange& x, const std::string& first);
};

// Every route: dispatch, the Allow header of a 405 and the metrics labels read this table.
const std::array<Server::Impl::Route, 24> Server::Impl::kRoutes = {{
    {Http::Method::Get, "/health", Access::kAnyone, &Impl::GetHealth},
    {Http::Method::Get, "/metrics", Access::kRead, &Impl::GetMetrics},
    {Http::Method::Post, "/deploy-all-changed", Access::kSigned, &Impl::PostDeployAllChanged},
    {Http::Method::Post, "/redeploy-and-update/{stack}", Access::kSigned, &Impl::PostRedeployAndUpdate},
    {Http::Method::Post, "/deploy", Access::kDeploy, &Impl::PostDeploy},
    {Http::Method::Get, "/deployments", Access::kRead, &Impl::GetDeployments},
    {Http::Method::Get, "/deployments/{id}", Access::kRead, &Impl::GetDeployment},
    {Http::Method::Get, "/stacks", Access::kRead, &Impl::GetStacks},
    {Http::Method::Get, "/stacks/{stack}", Access::kRead, &Impl::GetStack},
    {Http::Method::Get, "/", Access::kRead, &Impl::GetHome},
    {Http::Method::Get, "/login", Access::kAnyone, &Impl::GetLogin},
    {Http::Method::Post, "/login", Access::kAnyone, &Impl::PostLogin},
    {Http::Method::Post, "/logout", Access::kRead, &Impl::PostLogout},
    {Http::Method::Get, "/static/{file}", Access::kAnyone, &Impl::GetStatic},
    {Http::Method::Get, "/deliveries", Access::kRead, &Impl::GetDeliveries},
    {Http::Method::Get, "/audit", Access::kRead, &Impl::GetAudit},
    {Http::Method::Post, "/actions/deploy-all-changed", Access::kDeploy, &Impl::PostActionDeployAllChanged},
    {Http::Method::Post, "/actions/sync", Access::kDeploy, &Impl::PostActionSync},
    {Http::Method::Post, "/actions/redeploy/{stack}", Access::kDeploy, &Impl::PostActionRedeploy},
    {Http::Method::Post, "/actions/recreate/{stack}", Access::kDeploy, &Impl::PostActionRecreate},
    {Http::Method::Post, "/actions/suspend/{stack}", Access::kAdmin, &Impl::PostSuspend},
    {Http::Method::Post, "/actions/resume/{stack}", Access::kAdmin, &Impl::PostResume},
    {Http::Method::Post, "/actions/pin/{stack}", Access::kAdmin, &Impl::PostPin},
    {Http::Method::Post, "/actions/unpin/{stack}", Access::kAdmin, &Impl::PostUnpin},
}};

// Pistache::Http::Handler's onConnection and onInput are private overrides, yet ours must run
// them (the connection caps see each connection first; every X-Forwarded-For line is read from
// the bytes before Pistache's parser keeps only the first): they are called by their symbols in
// libpistache 0.0.5 (Debian 12), whose C++ ABI passes `this` first.
namespace pistache_private {
void PistacheOnConnection(Http::Handler* self, const std::shared_ptr<Pistache::Tcp::Peer>& peer) __asm__(
    "_ZN8Pistache4Http7Handler12onConnectionERKSt10shared_ptrINS_3Tcp4PeerEE");
void PistacheOnInput(
    Http::Handler* self, const char* buffer, std::size_t len,
    const std::shared_ptr<Pistache::Tcp::Peer>&
        peer) __asm__("_ZN8Pistache4Http7Handler7onInputEPKcmRKSt10shared_ptrINS_3Tcp4PeerEE");
}  // namespace pistache_private

namespace {

class PistacheHandler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)
  explicit PistacheHandler(Server::Impl* impl) : impl_(impl) {}
  void onRequest(const Http::Request& req, Http::ResponseWriter w) override {
    impl_->Handle(req, std::move(w));
  }
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    pistache_private::PistacheOnConnection(this, peer);
    impl_->Connected(*peer);
  }
  void onInput(const char* buffer, std::size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    impl_->Received(peer);  // Pistache may have started over since the last read (a timeout)
    if (!impl_->Receiving(std::string_view(buffer, len), *peer)) return;
    pistache_private::PistacheOnInput(this, buffer, len, peer);
    impl_->Received(peer);
  }
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    impl_->Disconnected(*peer);
    Http::Handler::onDisconnection(peer);
  }

 private:
  Server::Impl* impl_;
};

// The path without http.base_path ("/podcd/stacks" -> "/stacks", "/podcd" -> "/"). A path outside
// it is kept: a proxy that strips the prefix sends the bare path.
std::string WithoutBase(std::string_view path, std::string_view base) {
  if (base.empty() || !path.starts_with(base)) return std::string(path);
  const std::string_view rest = path.substr(base.size());
  if (rest.empty()) return "/";
  if (rest.front() != '/') return std::string(path);
  return std::string(rest);
}

// Whether `path` matches `pattern`; `param` gets what a trailing {name} matched.
bool Matches(std::string_view pattern, std::string_view path, std::string_view& param) {
  auto brace = pattern.find('{');
  if (brace == std::string_view::npos) return path == pattern;
  if (!path.starts_with(pattern.substr(0, brace))) return false;
  param = path.substr(brace);
  return true;
}

}  // namespace

void Server::Impl::Reply(Http::ResponseWriter& w, std::string_view route, const Answer& answer,
                         const Link& link) {
  metrics::Add("podcd_http_requests_total",
               {{"route", std::string(route)}, {"code", std::to_string(answer.status)}});
  // The request counts as in flight until its answer is written, not merely queued.
  Send(w, answer, link, answer.close || draining || !link.keep_alive, [this] { --in_flight; });
}

void Server::Impl::Handle(const Http::Request& req, Http::ResponseWriter w) {
  ++in_flight;
  Exchange x{
      req,   w, kUnknownRoute, {}, LinkOf(req), std::nullopt, WithoutBase(req.resource(), opt.base_path),
      false, {}};
  if (auto peer = clients.HasTrustedProxies() ? w.getPeer() : nullptr) {
    if (auto scanner = std::static_pointer_cast<ForwardedForScanner>(peer->tryGetData(kForwardedKey))) {
      x.forwarded = scanner->Lines();
      scanner->Reset();
    }
  }
  try {
    const Route* route = Resolve(x);
    // Webhooks never get pages: their hot path does not read (Pistache's typed) Accept.
    if (route && route->access != Access::kSigned)
      x.html = WantsHtml(HeaderValue(req.headers(), "Accept").value_or(""));
    if (draining) return Reply(x, {503, ShuttingDownBody(), kJsonType, true});
    if (HeaderBytes(req) > opt.max_header_bytes) {
      return Reply(x, {431, ErrorBody("request headers too large"), kJsonType, true});
    }
    if (!route && x.route == kUnknownRoute)
      return ReplyError(x, {ErrorCode::kNotFound, "no such endpoint", {}});
    if (!route) {
      const std::string allow = AllowedMethods(x.path);
      w.headers().addRaw(Http::Header::Raw("Allow", allow));
      return Reply(x, {405, ErrorBody("method not allowed; use " + allow)});
    }
    if (Admitted(x, route->access)) (this->*route->handle)(x);
  } catch (const std::exception& e) {
    log::Error("request handler failed", {{"path", req.resource()}, {"error", e.what()}});
    ReplyError(x, {ErrorCode::kInternal, "internal error", {}});
  }
}

// The row for the request's path and method, or null. x.route names the first row with the
// path (kUnknownRoute when none has it), whatever its method.
const Server::Impl::Route* Server::Impl::Resolve(Exchange& x) {
  for (const auto& r : kRoutes) {
    std::string_view param;
    if (!Matches(r.pattern, x.path, param)) continue;
    if (x.route == kUnknownRoute) x.route = r.pattern;
    if (r.method == x.req.method()) {
      x.param = std::string(param);
      return &r;
    }
  }
  return nullptr;
}

// The methods of the rows with this path, for a 405's Allow header.
std::string Server::Impl::AllowedMethods(std::string_view path) {
  std::string allow;
  for (const auto& r : kRoutes) {
    std::string_view param;
    if (!Matches(r.pattern, path, param)) continue;
    allow += (allow.empty() ? "" : ", ") + std::string(Http::methodString(r.method));
  }
  return allow;
}

bool Server::Impl::Admitted(Exchange& x, Access access) {
  switch (access) {
    case Access::kAnyone: return true;
    case Access::kSigned: return SignatureValid(x);
    case Access::kRead: return Allowed(x, auth::Scope::kRead);
    case Access::kDeploy: return Allowed(x, auth::Scope::kDeploy);
    case Access::kAdmin: return Allowed(x, auth::Scope::kAdmin);
  }
  return false;
}

bool Server::Impl::RateLimited(Exchange& x, const std::string& client) {
  if (!limiter.Lock()->Blocked(client, Clock::now())) return false;
  x.w.headers().addRaw(Http::Header::Raw("Retry-After", "60"));
  static const std::string body = ErrorBody("too many failed authentications from this address; retry later");
  Reply(x, {429, body});
  return true;
}

bool Server::Impl::BodyTooLarge(Exchange& x) {
  if (x.req.body().size() <= opt.max_body_bytes) return false;
  Reply(x, {413, ErrorBody("body larger than " + std::to_string(opt.max_body_bytes) + " bytes"), kJsonType,
            true});
  return true;
}

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

// Verified first (an HMAC over at most max_body_bytes is cheap): a correctly signed request is
// always processed, so failures from an address shared with the git host cannot lock it out.
// The limiter answers only requests that fail.
bool Server::Impl::SignatureValid(Exchange& x) {
  if (BodyTooLarge(x)) return Delivered(x, 413, "rejected", "body too large"), false;
  if (VerifyTrigger(Credentials().secret, PistacheHeaders(x.req.headers()), x.req.body())) return true;
  const std::string client = ClientOf(x);
  if (RateLimited(x, client))
    return Delivered(x, 429, "rejected", "too many failed signatures from this address"), false;
  Delivered(x, 401, "rejected", "invalid or missing signature");
  limiter.Lock()->RecordFailure(client, Clock::now());
  if (auto left_out = webhook_rejections_logged.Admit(Clock::now())) {
    log::Warn(
        "webhook rejected: invalid or missing signature",
        {{"client", client}, {"path", x.req.resource()}, {"not_logged_before", std::to_string(*left_out)}});
  }
  Reply(x, {HttpStatus(ErrorCode::kUnauthenticated), std::string(kUnauthorizedBody)});
  return false;
}

void Server::Impl::Defer(Exchange& x, DeferredAnswers::Route which) {
  SharedAnswer::Deliver deliver = [this, w = x.w.clone(), route = x.route, link = Deferred(x.link, x.w)](
                                      const Answer& a) mutable { Reply(w, route, a, link); };
  if (!answers.Request(which, std::move(deliver))) Reply(x, {503, ShuttingDownBody(), kJsonType, true});
}

void Server::Impl::GetDeployments(Exchange& x) {
  if (x.html) return Reply(x, dashboard->Deployments(PageOf(x)));
  std::int64_t limit = kDefaultListLimit;
  if (auto l = x.req.query().get("limit")) {
    auto n = ParseInt(*l);
    if (!n || *n < 1 || *n > kMaxListLimit) {
      return ReplyError(x, {ErrorCode::kInvalidArgument,
                            "limit must be a number from 1 to " + std::to_string(kMaxListLimit),
                            {}});
    }
    limit = *n;
  }
  Reply(x, {200, DeploymentsBody(store.List(static_cast<std::size_t>(limit)), kListLogLines)});
}

void Server::Impl::GetDeployment(Exchange& x) {
  if (x.param.empty()) return GetDeployments(x);  // GET /deployments/ lists, as it always did
  constexpr std::string_view kEvents = "/events";
  if (x.param.ends_with(kEvents)) return GetEvents(x, x.param.substr(0, x.param.size() - kEvents.size()));
  if (x.html && ValidDeploymentId(x.param)) return Reply(x, dashboard->Deployment(PageOf(x)));
  std::optional<state::Deployment> d;
  if (ValidDeploymentId(x.param)) d = store.Get(x.param);
  if (!d) return ReplyError(x, {ErrorCode::kNotFound, "no such deployment", {}});
  Reply(x, {200, state::ToJson(*d)});
}

// The log of a deployment as server-sent events until it ends (http/log_stream.hpp); a
// reconnecting EventSource resumes after its Last-Event-ID.
void Server::Impl::GetEvents(Exchange& x, std::string id) {
  if (!ValidDeploymentId(id) || !store.Get(id))
    return ReplyError(x, {ErrorCode::kNotFound, "no such deployment", {}});
  if (streams.Full())
    return Reply(x, {503, ErrorBody("too many event streams; retry later"), kJsonType, true});
  std::size_t from = 0;
  if (auto last = HeaderValue(x.req.headers(), "Last-Event-ID")) {
    if (auto n = ParseInt(*last); n && *n >= 0) from = static_cast<std::size_t>(*n) + 1;
  }
  metrics::Add("podcd_http_requests_total", {{"route", "/deployments/{id}/events"}, {"code", "200"}});
  auto sink = StartEventStream(x.w, x.link);
  --in_flight;  // answered: the stream ends on its own, or when the server stops
  (void)streams.Follow(std::move(id), from, std::move(sink));
}

void Server::Impl::Trigger(Exchange& x, TriggerEndpoint ep) {
  auto parsed = ParseTrigger(ep, PistacheHeaders(x.req.headers()), x.req.body());
  if (!parsed.request) {
    Delivered(x, 400, "rejected", parsed.error);
    return ReplyError(x, {ErrorCode::kInvalidArgument, parsed.error, {}});
  }
  const TriggerRequest& request = *parsed.request;
  using Kind = Classification::Kind;
  if (request.kind == Kind::kPong) {
    Delivered(x, 200, "pong");
    return Reply(x, {200, FlatObject({{"status", "pong"}})});
  }
  // A delivery answered before is a duplicate whatever the path it is replayed to.
  const std::string delivery = DeliveryKey(request.delivery);
  if (auto first = delivery.empty() ? std::nullopt : store.FindDelivery(delivery))
    return ReplyDuplicate(x, *first);
  const std::string& stack = x.param;
  if (ep == TriggerEndpoint::kRedeployAndUpdate) {
    if (!IsValidStackName(stack)) {
      Delivered(x, 400, "rejected", "not a valid stack name");
      return ReplyError(x, {ErrorCode::kInvalidArgument,
                            "not a valid stack name (lowercase letters, digits, '_', '.', '-'; at most 63)",
                            {}});
    }
    if (!catalog.Exists(stack)) {
      Delivered(x, 404, "rejected", "unknown stack");
      return ReplyError(x, {ErrorCode::kNotFound, "unknown stack \"" + stack + "\"", {}});
    }
  }
  std::optional<state::Trigger> t;
  if (request.kind != Kind::kIgnored) {
    t.emplace();
    t->kind = ep == TriggerEndpoint::kDeployAllChanged ? state::TriggerKind::kDeployAllChanged
                                                       : state::TriggerKind::kRedeployAndUpdate;
    t->event = request.event;
    t->delivery_id = request.delivery.substr(0, 200);
    t->actor = t->delivery_id.empty() ? "webhook" : "webhook:" + t->delivery_id;
    t->all_changed = ep == TriggerEndpoint::kDeployAllChanged;
    if (!t->all_changed) {
      t->stacks = {stack};
      t->pull = true;
    }
  }
  bool duplicate = false;
  auto id = EnqueueTrigger(std::move(t), delivery, duplicate);
  if (!id) {
    log::Warn("trigger refused", {{"path", x.req.resource()}, {"error", id.error().What()}});
    Delivered(x, HttpStatus(QueueError(id.error()).code), "rejected", id.error().message);
    return ReplyError(x, QueueError(id.error()));
  }
  if (duplicate) return ReplyDuplicate(x, *id);
  if (request.kind == Kind::kIgnored) {
    Delivered(x, 200, "ignored", request.reason);
    return Reply(x, {200, FlatObject({{"status", "ignored"}, {"reason", request.reason}})});
  }
  Delivered(x, 202, "queued", {}, *id);
  log::Info("trigger accepted", {{"path", x.req.resource()},
                                 {"deployment", *id},
                                 {"event", request.event},
                                 {"delivery", request.delivery}});
  Accepted(x, *id);
}

void Server::Impl::ReplyDuplicate(Exchange& x, const std::string& first) {
  Delivered(x, 200, "duplicate", {}, first == kIgnoredDelivery ? std::string() : first);
  if (first == kIgnoredDelivery) return Reply(x, {200, FlatObject({{"status", "duplicate"}})});
  Reply(x, {200, FlatObject({{"status", "duplicate"}, {"deployment", first}})});
}

Expected<std::string> Server::Impl::EnqueueTrigger(std::optional<state::Trigger> t,
                                                   const std::string& delivery, bool& duplicate) {
  std::lock_guard lock(trigger_mutex);
  if (!delivery.empty()) {
    if (auto first = store.FindDelivery(delivery)) {
      duplicate = true;
      return *first;
    }
  }
  std::string id(kIgnoredDelivery);
  if (t) {
    auto r = queue.Enqueue(std::move(*t));
    if (!r) return std::unexpected(r.error());
    id = r->id;
  }
  if (!delivery.empty()) {
    if (auto rem = store.RememberDelivery(delivery, id); !rem) {
      log::Warn("delivery id not remembered", {{"deployment", id}, {"error", rem.error().What()}});
    }
  }
  return id;
}

void Server::Impl::Delivered(const Exchange& x, int status, std::string_view outcome, std::string reason,
                             std::string deployment) {
  auto first_of = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (auto v = HeaderValue(x.req.headers(), name)) return *v;
    }
    return std::string();
  };
  deliveries.Record({state::NowMs(), ClientOf(x), x.req.resource(),
                     first_of({"X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"}),
                     first_of({"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID"}), status,
                     std::string(outcome), std::move(reason), std::move(deployment)});
}

void Server::Impl::GetDeliveries(Exchange& x) {
  if (x.html) return Reply(x, dashboard->Deliveries(PageOf(x), deliveries));
  Reply(x, {200, DeliveriesBody(deliveries.Recent(100))});
}

void Server::Impl::Connected(Pistache::Tcp::Peer& peer) {
  const std::string host = peer.address().host();
  const std::string key = LimiterKey(clients.ClientOf(host, std::vector<std::string>{}));
  if (!connections->Lock()->Open(key, clients.Trusted(host))) {
    // Refused at once, before Pistache reads a byte of it: a 503 for the client to read, then
    // the end of the connection; Pistache sees it closed and lets it go.
    peer.putData(kConnectionKey, nullptr);
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::send(peer.fd(), kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(peer.fd(), SHUT_RDWR);
    metrics::Add("podcd_http_connections_refused_total");
    return;
  }
  peer.putData(kConnectionKey, std::make_shared<ConnectionSlot>(connections, key));
  if (clients.HasTrustedProxies())
    peer.putData(kForwardedKey, std::make_shared<ForwardedForScanner>(opt.max_header_bytes));
}

void Server::Impl::Disconnected(Pistache::Tcp::Peer& peer) {
  if (auto slot = std::static_pointer_cast<ConnectionSlot>(peer.tryGetData(kConnectionKey))) slot->Release();
}

bool Server::Impl::Receiving(std::string_view bytes, Pistache::Tcp::Peer& peer) {
  if (!peer.tryGetData(kConnectionKey)) return false;  // refused: nothing it sends is read
  if (!clients.HasTrustedProxies()) return true;
  if (auto scanner = std::static_pointer_cast<ForwardedForScanner>(peer.tryGetData(kForwardedKey)))
    scanner->Feed(bytes);
  return true;
}

// Pistache answers some requests itself (413, 400, 408) and starts over without calling the
// handler: the scanner starts over with it, or the next request would get these lines. A
// complete header block leaves Pistache's request with headers until it starts over.
void Server::Impl::Received(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (!clients.HasTrustedProxies()) return;
  auto scanner = std::static_pointer_cast<ForwardedForScanner>(peer->tryGetData(kForwardedKey));
  if (!scanner || !scanner->Complete()) return;
  const auto& request = Http::Handler::getParser(peer)->request;
  if (request.headers().rawList().empty() && request.headers().list().empty()) scanner->Reset();
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

void Server::Impl::Accepted(Exchange& x, const std::string& id) {
  auto wait = x.req.query().get("wait");
  std::int64_t seconds = 0;
  if (wait) {
    auto n = ParseInt(*wait);
    // The trigger is already queued: a bad ?wait= still gets the id, just without waiting.
    if (n && *n > 0) seconds = std::min<std::int64_t>(*n, opt.max_wait.count());
  }
  if (seconds > 0) {
    WaitingAnswers::Deliver deliver = [this, w = x.w.clone(), link = Deferred(x.link, x.w)](
                                          const Answer& a) mutable { Reply(w, kWaiterRoute, a, link); };
    if (waits.Add(id, std::chrono::seconds(seconds), std::move(deliver))) return;
  }
  Reply(x, {202, FlatObject({{"deployment", id}, {"status", "queued"}})});
}

Server::Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
               DeferredAnswers& answers)
    : impl_(std::make_shared<Impl>(std::move(options), store, queue, catalog, answers, nullptr)) {
  queue.SetListener([impl = impl_.get()](const state::Deployment&) { impl->waits.Notify(); });
}

Server::Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
               HealthProbe* health) {
  auto own = std::make_unique<DeferredAnswers>(store, catalog, health, options.version);
  DeferredAnswers& answers = *own;
  impl_ = std::make_shared<Impl>(std::move(options), store, queue, catalog, answers, std::move(own));
  queue.SetListener([impl = impl_.get()](const state::Deployment&) { impl->waits.Notify(); });
}

Server::~Server() {
  Shutdown(std::chrono::milliseconds(0));
  impl_->queue.SetListener(nullptr);
}

Expected<void> Server::UpdateCredentials(std::string secret, std::string api_token, std::string users_file) {
  *impl_->credentials.Lock() = Impl::Secrets{std::move(secret), api_token};
  if (!impl_->gate) return {};
  return impl_->gate->Reload(std::move(api_token), std::move(users_file));
}

Expected<void> Server::Start() {
  auto& o = impl_->opt;
  if (impl_->Credentials().secret.empty())
    return Fail(ErrorCode::kInvalidArgument, "webhook.secret is empty");
  GateOptions gate_options;
  gate_options.api_token = impl_->Credentials().api_token;
  gate_options.users_file = o.users_file;
  gate_options.tokens_file = o.tokens_file;
  if (!o.audit_dir.empty()) {
    auto audit = state::AuditLog::Open(o.audit_dir);
    if (!audit) return std::unexpected(audit.error());
    impl_->audit = std::move(*audit);
  }
  auto gate = Gatekeeper::Open(std::move(gate_options));
  if (!gate) return std::unexpected(gate.error());
  impl_->gate = std::move(*gate);
  for (const auto& warning : impl_->gate->Warnings()) log::Warn(warning);
  impl_->dashboard = std::make_unique<Dashboard>(DashboardOptions{o.base_path, o.branch}, impl_->store,
                                                 impl_->catalog, *impl_->gate, impl_->audit.get());
  try {
    Pistache::Address addr(o.host, Pistache::Port(o.port));
    impl_->endpoint = std::make_unique<Http::Endpoint>(addr);
    auto opts = Http::Endpoint::options()
                    .threads(std::max(1, o.threads))
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .maxRequestSize(o.max_body_bytes + o.max_header_bytes)
                    .maxResponseSize(kMaxResponseBytes)
                    .headerTimeout(o.request_timeout)
                    .bodyTimeout(o.request_timeout)
                    .keepaliveTimeout(o.request_timeout);
    impl_->endpoint->init(opts);
    impl_->endpoint->setHandler(Http::make_handler<PistacheHandler>(impl_.get()));
    impl_->waits.Start();
    impl_->answers.Start();
    impl_->dashboard->Start();
    impl_->streams.Start();
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUnavailable, std::string("cannot listen: ") + e.what(),
                o.host + ":" + std::to_string(o.port));
  }
  log::Info("listening", {{"address", o.host + ":" + std::to_string(Port())}});
  return {};
}

std::uint16_t Server::Port() const {
  if (!impl_->endpoint) return 0;
  return static_cast<std::uint16_t>(static_cast<std::uint16_t>(impl_->endpoint->getPort()));
}

void Server::Shutdown(std::chrono::milliseconds drain_timeout) {
  auto& im = *impl_;
  auto shut_down = im.shut_down.Lock();
  if (*shut_down) return;
  *shut_down = true;
  auto deadline = Clock::now() + drain_timeout;
  im.draining = true;
  auto wait_until = [&](auto pred) {
    while (!pred() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  // 1. Requests being handled right now (not the ones waiting on a deployment).
  wait_until([&] { return im.in_flight.load() - im.waits.Waiting() <= 0; });
  // 2. The running deployment reaches a safe point; ?wait= callers get its final record.
  im.queue.Stop();
  im.waits.Stop();
  im.answers.Stop();
  if (im.dashboard) im.dashboard->Stop();
  im.streams.Stop();
  // 3. Every answer is written before the reactor goes away.
  wait_until([&] { return im.in_flight.load() <= 0; });
  if (im.endpoint) im.endpoint->shutdown();
  log::Info("server stopped", {{"unanswered", im.in_flight.load()}});
}

}  // namespace podcd::http
