// The server's parts (server.cpp: routes, dispatch, connections, start and stop;
// server_access.cpp: who may call what and the audited actions; server_webhooks.cpp: signed
// triggers and their deliveries) share Server::Impl and these helpers. Private to podcd_http.
#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "http/actions.hpp"
#include "http/answers.hpp"
#include "http/background.hpp"
#include "http/dashboard.hpp"
#include "http/deferred_answers.hpp"
#include "http/delivery_log.hpp"
#include "http/event_stream.hpp"
#include "http/gate.hpp"
#include "http/link.hpp"
#include "http/log_stream.hpp"
#include "http/server.hpp"
#include "http/stack_controls_api.hpp"
#include "http/upload.hpp"
#include "http/waiting_answers.hpp"
#include "http/warn_throttle.hpp"
#include "http/webhook.hpp"
#include "state/audit.hpp"
#include "util/guarded.hpp"

namespace podcd::http {
namespace Http = Pistache::Http;
using Clock = std::chrono::steady_clock;

// A header's value whether Pistache kept it raw or parsed it into a typed header.
inline std::optional<std::string> HeaderValue(const Http::Header::Collection& headers,
                                              const std::string& name) {
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

// The queue refusing work is never the client's fault: 503 when it is full or stopping,
// else an internal error.
inline Error QueueError(const Error& e) {
  return {e.code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal, e.message,
          e.context};
}

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

struct Server::Impl {
  Impl(ServerOptions o, state::Store& s, reconcile::WorkQueue& q, StackCatalog& c, DeferredAnswers& a,
       std::unique_ptr<DeferredAnswers> own, events::Bus* bus)
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
        controls(opt.state_dir.empty() ? "" : state::StackControlsPath(opt.state_dir).string(), s, q, c),
        event_streams(bus, EventStreamLimits{}) {}

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
  static const std::array<Route, 27> kRoutes;

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
  EventStreams event_streams;  // GET /events
  // POST /upload (http/upload_path.cpp): read off Pistache, streamed to the state directory,
  // loaded by `loader` on the `loads` thread, one at a time.
  ImageLoader* loader = nullptr;
  Background loads{"upload", 4};
  std::atomic<int> uploads_open{0};
  void SetImageLoader(ImageLoader* l);
  // A connection's bytes before Pistache sees them: true when they are an upload's (taken).
  bool Uploading(std::string_view bytes, const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void UploadGone(Pistache::Tcp::Peer& peer);
  void PostUploadElsewhere(Exchange& x);
  void GetStatus(Exchange& x);  // GET /status/<project>[/<deployment>] (http/upload_status.hpp)

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
  void GetEventStream(Exchange& x);
  // Answers with the head of an endless event stream and hands `follow` its sink; 503 when
  // `full`. The request is answered then: the stream ends on its own, or when the server stops.
  void OpenStream(Exchange& x, bool full, std::string_view route,
                  const std::function<void(std::unique_ptr<EventSink>)>& follow);
  void Trigger(Exchange& x, TriggerEndpoint ep);
  void GetDeliveries(Exchange& x);
  // The deployment a delivery key already started (or kIgnoredDelivery), else the one queued for
  // `t`, or with no `t` the key remembered as ignored; `duplicate` tells which.
  Expected<std::string> EnqueueTrigger(std::optional<state::Trigger> t, const std::string& delivery,
                                       bool& duplicate);
  void ReplyDuplicate(Exchange& x, const std::string& first);
};

}  // namespace podcd::http
