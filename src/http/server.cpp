#include "http/server.hpp"

#include <pistache/net.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "http/server_internal.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"

namespace podcd::http {
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

// A reconnecting EventSource's Last-Event-ID, when it is a number.
std::optional<std::int64_t> LastEventId(const Http::Request& req) {
  auto value = HeaderValue(req.headers(), "Last-Event-ID");
  if (!value) return std::nullopt;
  auto n = ParseInt(*value);
  if (!n || *n < 0) return std::nullopt;
  return *n;
}

const std::string& ShuttingDownBody() {
  static const std::string body = ErrorBody("podcd is shutting down");
  return body;
}

// The names of what the server keeps on a Pistache connection (Tcp::Peer data).
const std::string kConnectionKey = "podcd.conn";  // short enough for no allocation per lookup
const std::string kForwardedKey = "podcd.xff";

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
  o.upload_max_bytes = c.upload.max_bytes;
  return o;
}

// Every route: dispatch, the Allow header of a 405 and the metrics labels read this table.
const std::array<Server::Impl::Route, 27> Server::Impl::kRoutes = {{
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
    {Http::Method::Get, "/events", Access::kRead, &Impl::GetEventStream},
    {Http::Method::Get, "/audit", Access::kRead, &Impl::GetAudit},
    {Http::Method::Post, "/actions/deploy-all-changed", Access::kDeploy, &Impl::PostActionDeployAllChanged},
    {Http::Method::Post, "/actions/sync", Access::kDeploy, &Impl::PostActionSync},
    {Http::Method::Post, "/actions/redeploy/{stack}", Access::kDeploy, &Impl::PostActionRedeploy},
    {Http::Method::Post, "/actions/recreate/{stack}", Access::kDeploy, &Impl::PostActionRecreate},
    {Http::Method::Post, "/actions/suspend/{stack}", Access::kAdmin, &Impl::PostSuspend},
    {Http::Method::Post, "/actions/resume/{stack}", Access::kAdmin, &Impl::PostResume},
    {Http::Method::Post, "/actions/pin/{stack}", Access::kAdmin, &Impl::PostPin},
    {Http::Method::Post, "/actions/unpin/{stack}", Access::kAdmin, &Impl::PostUnpin},
    {Http::Method::Post, "/upload", Access::kDeploy, &Impl::PostUploadElsewhere},
    {Http::Method::Get, "/status/{project}", Access::kRead, &Impl::GetStatus},
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
    if (impl_->Uploading(std::string_view(buffer, len), peer)) return;  // http/upload_path.cpp
    pistache_private::PistacheOnInput(this, buffer, len, peer);
    impl_->Received(peer);
  }
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    impl_->UploadGone(*peer);
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
  std::size_t from = 0;
  if (auto last = LastEventId(x.req)) from = static_cast<std::size_t>(*last) + 1;
  OpenStream(x, streams.Full(), "/deployments/{id}/events", [&](std::unique_ptr<EventSink> sink) {
    (void)streams.Follow(std::move(id), from, std::move(sink));
  });
}

// Every deployment's events as they happen (http/event_stream.hpp), those of one stack with
// ?stack=; a reconnecting EventSource resumes after its Last-Event-ID.
void Server::Impl::GetEventStream(Exchange& x) {
  std::string stack = x.req.query().get("stack").value_or("");
  if (!stack.empty() && !IsValidStackName(stack))
    return ReplyError(
        x, {ErrorCode::kInvalidArgument, "not a valid stack name: " + json::Quoted(stack.substr(0, 80)), {}});
  // Taken before the answer's head is written: a client that acts on the head misses nothing.
  std::uint64_t last = event_streams.Newest();
  if (auto id = LastEventId(x.req)) last = static_cast<std::uint64_t>(*id);
  OpenStream(x, event_streams.Full(), x.route, [&](std::unique_ptr<EventSink> sink) {
    (void)event_streams.Follow(last, std::move(stack), std::move(sink));
  });
}

void Server::Impl::OpenStream(Exchange& x, bool full, std::string_view route,
                              const std::function<void(std::unique_ptr<EventSink>)>& follow) {
  if (full) return Reply(x, {503, ErrorBody("too many event streams; retry later"), kJsonType, true});
  metrics::Add("podcd_http_requests_total", {{"route", std::string(route)}, {"code", "200"}});
  auto sink = StartEventStream(x.w, x.link);
  --in_flight;  // answered: the stream ends on its own, or when the server stops
  follow(std::move(sink));
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
               DeferredAnswers& answers, events::Bus* bus)
    : impl_(std::make_shared<Impl>(std::move(options), store, queue, catalog, answers, nullptr, bus)) {
  queue.SetListener([impl = impl_.get()](const state::Deployment&) { impl->waits.Notify(); });
}

Server::Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
               HealthProbe* health, events::Bus* bus) {
  auto own = std::make_unique<DeferredAnswers>(store, catalog, health, options.version);
  DeferredAnswers& answers = *own;
  impl_ = std::make_shared<Impl>(std::move(options), store, queue, catalog, answers, std::move(own), bus);
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
    impl_->event_streams.Start();
    impl_->loads.Start();
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUnavailable, std::string("cannot listen: ") + e.what(),
                o.host + ":" + std::to_string(o.port));
  }
  log::Info("listening", {{"address", o.host + ":" + std::to_string(Port())}});
  return {};
}

void Server::SetImageLoader(ImageLoader* loader) { impl_->SetImageLoader(loader); }

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
  im.event_streams.Stop();
  im.loads.Stop();  // a load under way ends first; its answer is written
  // 3. Every answer is written before the reactor goes away.
  wait_until([&] { return im.in_flight.load() <= 0; });
  if (im.endpoint) im.endpoint->shutdown();
  log::Info("server stopped", {{"unanswered", im.in_flight.load()}});
}

}  // namespace podcd::http
