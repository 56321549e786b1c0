#include "http/server.hpp"

#include "util/metrics.hpp"
#include "util/scope_exit.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/webhook.hpp"
#include "util/guarded.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace Http = Pistache::Http;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxResponseBytes = 64u << 20;
constexpr std::int64_t kDefaultListLimit = 20;
constexpr std::int64_t kMaxListLimit = 100;
// A list answer carries the last lines of each log (bounded size); the record has them all.
constexpr std::size_t kListLogLines = 50;

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  json::AppendEscaped(out, s);
  out += '"';
  return out;
}

std::string ErrorBody(std::string_view message) { return "{\"error\":" + JsonString(message) + "}"; }

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

Http::Code FinalCode(const state::Deployment& d) {
  if (!state::IsFinished(d.state)) return Http::Code::Accepted;
  return d.state == state::DeploymentState::kFailed ? Http::Code::Internal_Server_Error : Http::Code::Ok;
}

}  // namespace

bool DirectoryCatalog::Exists(std::string_view name) {
  if (!IsValidStackName(name)) return false;
  std::error_code ec;
  return fs::is_directory(fs::path(root_) / std::string(name), ec);
}

Expected<std::vector<StackInfo>> DirectoryCatalog::List() {
  std::vector<StackInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    std::error_code ec2;
    std::string name = e.path().filename().string();
    if (!e.is_directory(ec2) || !IsValidStackName(name)) continue;
    StackInfo info;
    info.name = name;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

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
  return o;
}

struct Waiter {
  std::string id;
  Http::ResponseWriter writer;
  Clock::time_point deadline;
};

struct Server::Impl {
  Impl(ServerOptions o, state::Store& s, reconcile::WorkQueue& q, StackCatalog& c, HealthProbe* h)
      : opt(std::move(o)),
        store(s),
        queue(q),
        catalog(c),
        health(h),
        limiter(opt.auth_failures_per_minute),
        clients(opt.trusted_proxies) {}

  ServerOptions opt;  // secret and api_token: read through Credentials() (SIGHUP replaces them)
  std::mutex credentials_mutex;
  std::pair<std::string, std::string> Credentials() {
    std::lock_guard lock(credentials_mutex);
    return {opt.secret, opt.api_token};
  }
  state::Store& store;
  reconcile::WorkQueue& queue;
  StackCatalog& catalog;
  HealthProbe* health;
  Guarded<AuthFailureLimiter> limiter;
  const ClientResolver clients;
  std::string ClientOf(const Http::Request& req) const {
    return clients.ClientOf(req.address().host(), HeaderValue(req.headers(), "X-Forwarded-For"));
  }
  std::mutex trigger_mutex;  // duplicate check + enqueue + remember are one step

  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::int64_t> waiting{0};

  std::mutex wait_mutex;
  std::condition_variable wait_cv;
  std::vector<std::unique_ptr<Waiter>> waiters;
  bool wake = false;
  bool wait_stop = false;
  std::thread wait_thread;

  // GET /health, /metrics and /stacks can wait on Podman (a ping, the podcd_stacks gauge, a
  // __stacks worker): each is answered by a thread of its own, so that the reactor threads
  // stay free for webhooks. The requests that come while an answer is computed all get the
  // next one, computed after they came.
  struct Deferred {
    std::string_view route;
    std::function<std::pair<Http::Code, std::string>()> answer;
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<Http::ResponseWriter> pending;
    bool stop = false;
    std::thread thread;
  };
  Deferred health_answers{"/health", [this] { return HealthAnswer(); }, {}, {}, {}, false, {}};
  Deferred metrics_answers{
      "/metrics", [] { return std::pair{Http::Code::Ok, metrics::Render()}; }, {}, {}, {}, false, {}};
  Deferred stacks_answers{"/stacks", [this] { return StacksAnswer(); }, {}, {}, {}, false, {}};

  std::unique_ptr<Http::Endpoint> endpoint;
  std::mutex shutdown_mutex;
  bool shut_down = false;

  void Handle(const Http::Request& req, Http::ResponseWriter w);
  void Reply(Http::ResponseWriter& w, Http::Code code, const std::string& body, bool close = false);
  void HandleTrigger(const Http::Request& req, Http::ResponseWriter& w, TriggerEndpoint ep,
                     const std::string& stack);
  void HandleDeploy(const Http::Request& req, Http::ResponseWriter& w);
  bool ApiAllowed(const Http::Request& req, Http::ResponseWriter& w);
  bool RateLimited(const std::string& client, Http::ResponseWriter& w);
  void Accepted(const Http::Request& req, Http::ResponseWriter& w, const std::string& id);
  void WaitLoop();
  void Defer(Deferred& d, Http::ResponseWriter& w);
  void DeferredLoop(Deferred& d);
  void StopDeferred(Deferred& d);
  std::pair<Http::Code, std::string> HealthAnswer();
  std::pair<Http::Code, std::string> StacksAnswer();
  std::string StacksBody(std::vector<StackInfo> stacks);
  void Notify() {
    std::lock_guard lock(wait_mutex);
    wake = true;
    wait_cv.notify_all();
  }
};

namespace {

class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)
  explicit Handler(Server::Impl* impl) : impl_(impl) {}
  void onRequest(const Http::Request& req, Http::ResponseWriter w) override {
    impl_->Handle(req, std::move(w));
  }

 private:
  Server::Impl* impl_;
};

}  // namespace

// The route of the request being handled on this reactor thread, for the request counter.
thread_local std::string_view current_route = "deferred";

void Server::Impl::Reply(Http::ResponseWriter& w, Http::Code code, const std::string& body, bool close) {
  metrics::Add("podcd_http_requests_total",
               {{"route", std::string(current_route)}, {"code", std::to_string(static_cast<int>(code))}});
  if (current_route == "/metrics" && code == Http::Code::Ok) {
    w.headers().add<Http::Header::ContentType>(MIME(Text, Plain));
  } else {
    w.headers().add<Http::Header::ContentType>(MIME(Application, Json));
  }
  if (close || draining) w.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  // The request counts as in flight until its answer is written, not merely queued.
  w.send(code, body).then([this](ssize_t) { --in_flight; }, [this](std::exception_ptr) { --in_flight; });
}

bool Server::Impl::RateLimited(const std::string& client, Http::ResponseWriter& w) {
  if (!limiter.Lock()->Blocked(client, Clock::now())) return false;
  w.headers().addRaw(Http::Header::Raw("Retry-After", "60"));
  Reply(w, Http::Code::Too_Many_Requests,
        ErrorBody("too many failed authentications from this address; retry later"));
  return true;
}

bool Server::Impl::ApiAllowed(const Http::Request& req, Http::ResponseWriter& w) {
  const std::string client = ClientOf(req);
  const std::string token = Credentials().second;
  if (token.empty()) {
    if (IsLoopbackAddress(client)) return true;
    Reply(w, Http::Code::Forbidden,
          ErrorBody("this endpoint answers only loopback clients unless api.token is set"));
    return false;
  }
  if (RateLimited(client, w)) return false;
  auto auth = HeaderValue(req.headers(), "Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth && auth->starts_with(kBearer) &&
      TokenEquals(token, std::string_view(*auth).substr(kBearer.size()))) {
    return true;
  }
  limiter.Lock()->RecordFailure(client, Clock::now());
  log::Warn("API request with a missing or wrong bearer token",
            {{"client", client}, {"path", req.resource()}});
  w.headers().addRaw(Http::Header::Raw("WWW-Authenticate", "Bearer"));
  Reply(w, Http::Code::Unauthorized, ErrorBody("missing or invalid bearer token"));
  return false;
}

// Bounded route names for the metrics (never the raw path: stack names and ids vary).
std::string_view RouteOf(const std::string& path) {
  for (std::string_view fixed :
       {"/health", "/metrics", "/deploy-all-changed", "/deploy", "/stacks", "/deployments"}) {
    if (path == fixed) return fixed;
  }
  if (path.starts_with("/redeploy-and-update/")) return "/redeploy-and-update/{stack}";
  if (path.starts_with("/deployments/")) return "/deployments/{id}";
  return "other";
}

void Server::Impl::Handle(const Http::Request& req, Http::ResponseWriter w) {
  ++in_flight;
  current_route = RouteOf(req.resource());
  ScopeExit reset_route([] { current_route = "deferred"; });
  try {
    if (draining) {
      Reply(w, Http::Code::Service_Unavailable, ErrorBody("podcd is shutting down"), true);
      return;
    }
    if (HeaderBytes(req) > opt.max_header_bytes) {
      Reply(w, Http::Code::Request_Header_Fields_Too_Large, ErrorBody("request headers too large"), true);
      return;
    }
    const std::string& path = req.resource();
    const auto method = req.method();
    auto wrong_method = [&](const char* allow) {
      w.headers().addRaw(Http::Header::Raw("Allow", allow));
      Reply(w, Http::Code::Method_Not_Allowed, ErrorBody(std::string("method not allowed; use ") + allow));
    };
    if (path == "/health") {
      if (method != Http::Method::Get) return wrong_method("GET");
      return Defer(health_answers, w);
    }
    if (path == "/metrics") {
      if (method != Http::Method::Get) return wrong_method("GET");
      if (!ApiAllowed(req, w)) return;
      return Defer(metrics_answers, w);
    }
    if (path == "/deploy-all-changed") {
      if (method != Http::Method::Post) return wrong_method("POST");
      return HandleTrigger(req, w, TriggerEndpoint::kDeployAllChanged, {});
    }
    constexpr std::string_view kRedeploy = "/redeploy-and-update/";
    if (path.starts_with(kRedeploy)) {
      if (method != Http::Method::Post) return wrong_method("POST");
      return HandleTrigger(req, w, TriggerEndpoint::kRedeployAndUpdate, path.substr(kRedeploy.size()));
    }
    if (path == "/deploy") {
      if (method != Http::Method::Post) return wrong_method("POST");
      if (!ApiAllowed(req, w)) return;
      return HandleDeploy(req, w);
    }
    if (path == "/deployments" || path == "/deployments/") {
      if (method != Http::Method::Get) return wrong_method("GET");
      if (!ApiAllowed(req, w)) return;
      std::int64_t limit = kDefaultListLimit;
      if (auto l = req.query().get("limit")) {
        auto n = ParseInt(*l);
        if (!n || *n < 1 || *n > kMaxListLimit) {
          return Reply(w, Http::Code::Bad_Request,
                       ErrorBody("limit must be a number from 1 to " + std::to_string(kMaxListLimit)));
        }
        limit = *n;
      }
      std::string body = R"({"deployments":[)";
      bool first = true;
      for (const auto& d : store.List(static_cast<std::size_t>(limit))) {
        if (!first) body += ',';
        first = false;
        body += state::ToJson(d, kListLogLines);
      }
      body += "]}";
      return Reply(w, Http::Code::Ok, body);
    }
    constexpr std::string_view kDeployments = "/deployments/";
    if (path.starts_with(kDeployments)) {
      if (method != Http::Method::Get) return wrong_method("GET");
      if (!ApiAllowed(req, w)) return;
      std::string id = path.substr(kDeployments.size());
      std::optional<state::Deployment> d;
      if (ValidDeploymentId(id)) d = store.Get(id);
      if (!d) return Reply(w, Http::Code::Not_Found, ErrorBody("no such deployment"));
      return Reply(w, Http::Code::Ok, state::ToJson(*d));
    }
    if (path == "/stacks") {
      if (method != Http::Method::Get) return wrong_method("GET");
      if (!ApiAllowed(req, w)) return;
      return Defer(stacks_answers, w);
    }
    Reply(w, Http::Code::Not_Found, ErrorBody("no such endpoint"));
  } catch (const std::exception& e) {
    log::Error("request handler failed", {{"path", req.resource()}, {"error", e.what()}});
    Reply(w, Http::Code::Internal_Server_Error, ErrorBody("internal error"));
  }
}

std::string Server::Impl::StacksBody(std::vector<StackInfo> stacks) {
  auto recent = store.List(500);
  std::string body = R"({"stacks":[)";
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    auto& s = stacks[i];
    if (s.last_deployment.empty()) {
      for (const auto& d : recent) {
        bool touched =
            std::find(d.trigger.stacks.begin(), d.trigger.stacks.end(), s.name) != d.trigger.stacks.end() ||
            std::any_of(d.stacks.begin(), d.stacks.end(), [&](const auto& o) { return o.name == s.name; });
        if (touched) {
          s.last_deployment = d.id;
          break;
        }
      }
    }
    if (i) body += ',';
    body += "{\"name\":" + JsonString(s.name) + ",\"commit\":" + JsonString(s.commit) +
            ",\"fingerprint\":" + JsonString(s.fingerprint) + ",\"state\":" + JsonString(s.state) +
            ",\"last_deployment\":" + JsonString(s.last_deployment) + "}";
  }
  body += "]}";
  return body;
}

std::pair<Http::Code, std::string> Server::Impl::StacksAnswer() {
  auto listed = catalog.List();
  if (!listed)
    return {Http::Code::Service_Unavailable,
            ErrorBody("cannot observe the stacks: " + listed.error().What())};
  return {Http::Code::Ok, StacksBody(std::move(*listed))};
}

std::pair<Http::Code, std::string> Server::Impl::HealthAnswer() {
  std::vector<std::string> problems;
  if (health != nullptr) problems = health->Problems();
  if (problems.empty()) {
    return {Http::Code::Ok, opt.version.empty()
                                ? std::string(R"({"status":"ok"})")
                                : R"({"status":"ok","version":)" + JsonString(opt.version) + "}"};
  }
  std::string body = R"({"status":"unhealthy","reasons":[)";
  for (std::size_t i = 0; i < problems.size(); ++i) body += (i ? "," : "") + JsonString(problems[i]);
  body += "]}";
  return {Http::Code::Service_Unavailable, body};
}

void Server::Impl::Defer(Deferred& d, Http::ResponseWriter& w) {
  std::lock_guard lock(d.mutex);
  if (d.stop) return Reply(w, Http::Code::Service_Unavailable, ErrorBody("podcd is shutting down"), true);
  d.pending.push_back(w.clone());
  d.cv.notify_all();
}

void Server::Impl::DeferredLoop(Deferred& d) {
  current_route = d.route;
  std::unique_lock lock(d.mutex);
  for (;;) {
    d.cv.wait(lock, [&] { return !d.pending.empty() || d.stop; });
    if (d.pending.empty()) return;
    // Every request taken here came before this answer began: one answer serves them all.
    std::vector<Http::ResponseWriter> batch;
    batch.swap(d.pending);
    lock.unlock();
    std::pair<Http::Code, std::string> answer{Http::Code::Internal_Server_Error, ErrorBody("internal error")};
    try {
      answer = d.answer();
    } catch (const std::exception& e) {
      log::Error("request handler failed", {{"path", std::string(d.route)}, {"error", e.what()}});
    }
    for (auto& w : batch) Reply(w, answer.first, answer.second);
    lock.lock();
  }
}

// The requests already taken are answered; the thread ends once none wait.
void Server::Impl::StopDeferred(Deferred& d) {
  {
    std::lock_guard lock(d.mutex);
    d.stop = true;
    d.cv.notify_all();
  }
  if (d.thread.joinable()) d.thread.join();
}

void Server::Impl::HandleTrigger(const Http::Request& req, Http::ResponseWriter& w, TriggerEndpoint ep,
                                 const std::string& stack) {
  const std::string client = ClientOf(req);
  if (RateLimited(client, w)) return;
  const std::string& body = req.body();
  if (body.size() > opt.max_body_bytes) {
    return Reply(w, Http::Code::Request_Entity_Too_Large,
                 ErrorBody("body larger than " + std::to_string(opt.max_body_bytes) + " bytes"), true);
  }
  auto sig256 = HeaderValue(req.headers(), "X-Hub-Signature-256");
  auto gitea = HeaderValue(req.headers(), "X-Gitea-Signature");
  if (!gitea) gitea = HeaderValue(req.headers(), "X-Forgejo-Signature");
  auto gitlab = HeaderValue(req.headers(), "X-Gitlab-Token");
  SignatureHeaders sh;
  if (sig256) sh.hub_sha256 = *sig256;
  if (gitea) sh.gitea = *gitea;
  if (gitlab) sh.gitlab_token = *gitlab;
  if (!VerifySignature(Credentials().first, body, sh)) {
    limiter.Lock()->RecordFailure(client, Clock::now());
    log::Warn("webhook rejected: invalid or missing signature",
              {{"client", client}, {"path", req.resource()}});
    return Reply(w, Http::Code::Unauthorized, std::string(kUnauthorizedBody));
  }
  std::string event = HeaderValue(req.headers(), "X-GitHub-Event")
                          .value_or(HeaderValue(req.headers(), "X-Gitea-Event")
                                        .value_or(HeaderValue(req.headers(), "X-Gitlab-Event").value_or("")));
  if (event.size() > 100) event.resize(100);
  std::string content_type = HeaderValue(req.headers(), "Content-Type").value_or("");
  auto cls = Classify(ep, event, content_type, body);
  using Kind = Classification::Kind;
  if (cls.kind == Kind::kPong) return Reply(w, Http::Code::Ok, R"({"status":"pong"})");
  if (cls.kind == Kind::kBadRequest) return Reply(w, Http::Code::Bad_Request, ErrorBody(cls.reason));
  if (ep == TriggerEndpoint::kRedeployAndUpdate) {
    if (!IsValidStackName(stack)) {
      return Reply(
          w, Http::Code::Bad_Request,
          ErrorBody("not a valid stack name (lowercase letters, digits, '_', '.', '-'; at most 63)"));
    }
    if (!catalog.Exists(stack))
      return Reply(w, Http::Code::Not_Found, ErrorBody("unknown stack \"" + stack + "\""));
  }
  if (cls.kind == Kind::kIgnored) {
    return Reply(w, Http::Code::Ok, R"({"status":"ignored","reason":)" + JsonString(cls.reason) + "}");
  }
  std::string delivery =
      HeaderValue(req.headers(), "X-GitHub-Delivery")
          .value_or(HeaderValue(req.headers(), "X-Gitea-Delivery")
                        .value_or(HeaderValue(req.headers(), "X-Gitlab-Event-UUID").value_or("")));
  state::Trigger t;
  t.kind = std::string(ep == TriggerEndpoint::kDeployAllChanged ? state::kKindDeployAllChanged
                                                                : state::kKindRedeployAndUpdate);
  t.event = event;
  t.delivery_id = delivery.substr(0, 200);
  if (ep == TriggerEndpoint::kDeployAllChanged) {
    t.all_changed = true;
  } else {
    t.stacks = {stack};
    t.pull = true;
  }
  std::string id;
  {
    std::lock_guard lock(trigger_mutex);
    if (!delivery.empty()) {
      if (auto first = store.FindDelivery(delivery)) {
        return Reply(w, Http::Code::Ok, R"({"status":"duplicate","deployment":)" + JsonString(*first) + "}");
      }
    }
    auto r = queue.Enqueue(std::move(t));
    if (!r) {
      auto code = r.error().code == ErrorCode::kUnavailable ? Http::Code::Service_Unavailable
                                                            : Http::Code::Internal_Server_Error;
      log::Warn("trigger refused", {{"path", req.resource()}, {"error", r.error().What()}});
      return Reply(w, code, ErrorBody(r.error().message));
    }
    id = r->id;
    if (!delivery.empty()) {
      if (auto rem = store.RememberDelivery(delivery, id); !rem) {
        log::Warn("delivery id not remembered", {{"deployment", id}, {"error", rem.error().What()}});
      }
    }
  }
  log::Info("trigger accepted",
            {{"path", req.resource()}, {"deployment", id}, {"event", event}, {"delivery", delivery}});
  Accepted(req, w, id);
}

void Server::Impl::HandleDeploy(const Http::Request& req, Http::ResponseWriter& w) {
  const std::string& body = req.body();
  if (body.size() > opt.max_body_bytes) {
    return Reply(w, Http::Code::Request_Entity_Too_Large,
                 ErrorBody("body larger than " + std::to_string(opt.max_body_bytes) + " bytes"), true);
  }
  auto parsed = ParseDeployRequest(body);
  if (!parsed.request) return Reply(w, Http::Code::Bad_Request, ErrorBody(parsed.error));
  state::Trigger t;
  t.kind = std::string(state::kKindDeploy);
  t.all_changed = parsed.request->all_changed;
  t.pull = parsed.request->pull;
  for (const auto& s : parsed.request->stacks) {
    if (!IsValidStackName(s))
      return Reply(w, Http::Code::Bad_Request,
                   ErrorBody("not a valid stack name: " + JsonString(s.substr(0, 80))));
    if (!catalog.Exists(s)) return Reply(w, Http::Code::Not_Found, ErrorBody("unknown stack \"" + s + "\""));
    if (std::find(t.stacks.begin(), t.stacks.end(), s) == t.stacks.end()) t.stacks.push_back(s);
  }
  auto r = queue.Enqueue(std::move(t));
  if (!r) {
    auto code = r.error().code == ErrorCode::kUnavailable ? Http::Code::Service_Unavailable
                                                          : Http::Code::Internal_Server_Error;
    return Reply(w, code, ErrorBody(r.error().message));
  }
  log::Info("deploy requested through the API", {{"deployment", r->id}});
  Accepted(req, w, r->id);
}

void Server::Impl::Accepted(const Http::Request& req, Http::ResponseWriter& w, const std::string& id) {
  auto wait = req.query().get("wait");
  std::int64_t seconds = 0;
  if (wait) {
    auto n = ParseInt(*wait);
    // The trigger is already queued: a bad ?wait= still gets the id, just without waiting.
    if (n && *n > 0) seconds = std::min<std::int64_t>(*n, opt.max_wait.count());
  }
  if (seconds > 0) {
    std::lock_guard lock(wait_mutex);
    if (waiters.size() < opt.max_waiting_requests && !wait_stop) {
      waiters.push_back(
          std::make_unique<Waiter>(Waiter{id, w.clone(), Clock::now() + std::chrono::seconds(seconds)}));
      ++waiting;
      wake = true;
      wait_cv.notify_all();
      return;
    }
  }
  Reply(w, Http::Code::Accepted, R"({"deployment":)" + JsonString(id) + R"(,"status":"queued"})");
}

void Server::Impl::WaitLoop() {
  std::unique_lock lock(wait_mutex);
  for (;;) {
    auto next = Clock::now() + std::chrono::hours(1);
    for (const auto& wt : waiters) next = std::min(next, wt->deadline);
    wait_cv.wait_until(lock, next, [&] { return wake || wait_stop; });
    wake = false;
    auto now = Clock::now();
    std::vector<std::unique_ptr<Waiter>> ready;
    for (auto it = waiters.begin(); it != waiters.end();) {
      auto d = store.Get((*it)->id);
      if (wait_stop || !d || state::IsFinished(d->state) || now >= (*it)->deadline) {
        ready.push_back(std::move(*it));
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
    bool stop = wait_stop;
    lock.unlock();
    for (auto& wt : ready) {
      auto d = store.Get(wt->id);
      if (!d) {
        Reply(wt->writer, Http::Code::Internal_Server_Error, ErrorBody("deployment record lost"));
      } else {
        Reply(wt->writer, FinalCode(*d), state::ToJson(*d));
      }
      --waiting;
    }
    lock.lock();
    if (stop && waiters.empty()) return;
  }
}

Server::Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
               HealthProbe* health)
    : impl_(std::make_shared<Impl>(std::move(options), store, queue, catalog, health)) {
  Impl* impl = impl_.get();
  queue.SetListener([impl](const state::Deployment&) { impl->Notify(); });
}

Server::~Server() {
  Shutdown(std::chrono::milliseconds(0));
  impl_->queue.SetListener(nullptr);
}

void Server::UpdateCredentials(std::string secret, std::string api_token) {
  std::lock_guard lock(impl_->credentials_mutex);
  impl_->opt.secret = std::move(secret);
  impl_->opt.api_token = std::move(api_token);
}

Expected<void> Server::Start() {
  auto& o = impl_->opt;
  if (o.secret.empty()) return Fail(ErrorCode::kInvalidArgument, "webhook.secret is empty");
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
    impl_->endpoint->setHandler(Http::make_handler<Handler>(impl_.get()));
    impl_->wait_thread = std::thread([impl = impl_.get()] { impl->WaitLoop(); });
    for (auto* d : {&impl_->health_answers, &impl_->metrics_answers, &impl_->stacks_answers})
      d->thread = std::thread([impl = impl_.get(), d] { impl->DeferredLoop(*d); });
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
  std::lock_guard guard(im.shutdown_mutex);
  if (im.shut_down) return;
  im.shut_down = true;
  auto deadline = Clock::now() + drain_timeout;
  im.draining = true;
  auto wait_until = [&](auto pred) {
    while (!pred() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  // 1. Requests being handled right now (not the ones waiting on a deployment).
  wait_until([&] { return im.in_flight.load() - im.waiting.load() <= 0; });
  // 2. The running deployment reaches a safe point; ?wait= callers get its final record.
  im.queue.Stop();
  {
    std::lock_guard lock(im.wait_mutex);
    im.wait_stop = true;
    im.wait_cv.notify_all();
  }
  if (im.wait_thread.joinable()) im.wait_thread.join();
  for (auto* d : {&im.health_answers, &im.metrics_answers, &im.stacks_answers}) im.StopDeferred(*d);
  // 3. Every answer is written before the reactor goes away.
  wait_until([&] { return im.in_flight.load() <= 0; });
  if (im.endpoint) im.endpoint->shutdown();
  log::Info("server stopped", {{"unanswered", im.in_flight.load()}});
}

}  // namespace podcd::http
