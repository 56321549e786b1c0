// The dashboard's side of the server: the pages (src/web/ renders them from views), the login
// and logout, the static files. The server decides who may ask (http/gate.hpp) and calls these
// with the request's principal; what waits on Argon2id or on a `podcd __stacks` worker runs on
// threads of its own and is delivered like the other deferred answers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/answers.hpp"
#include "http/background.hpp"
#include "http/catalog.hpp"
#include "http/delivery_log.hpp"
#include "http/gate.hpp"
#include "state/audit.hpp"
#include "state/store.hpp"

namespace podcd::http {

// One request, as the dashboard reads it.
struct PageRequest {
  Principal who;
  std::string param;  // what the route's {name} matched
  std::string query;  // the raw query string, without '?'
  std::string body;   // a form's body
  std::string client;
  bool secure = false;  // came over TLS through a trusted proxy: the cookie gets Secure
  bool html = false;    // a browser's request (Accept): a page, else JSON
  bool gzip = false;    // the client accepts gzip: pages are sent compressed
};

struct DashboardOptions {
  std::string base_path;  // "" or "/prefix"
  std::string branch;     // the repository's branch, shown on the front page
};

class Dashboard {
 public:
  using Deliver = std::move_only_function<void(const Answer&)>;
  // `audit` (may be null) records logins and logouts.
  Dashboard(DashboardOptions options, state::Store& store, StackCatalog& catalog, Gatekeeper& gate,
            state::AuditLog* audit);

  void Start();
  void Stop();  // the jobs taken are answered

  // Answered on a thread of their own, through `deliver` (503 when its queue is full or stopped).
  void Home(PageRequest request, Deliver&& deliver);
  void Login(PageRequest request, Deliver&& deliver);
  // BASE/stacks/<name>: the page, or for JSON clients GET /stacks' entry of that stack.
  void Stack(PageRequest request, Deliver&& deliver);
  Answer Deployments(const PageRequest& request) const;
  Answer Deployment(const PageRequest& request) const;
  Answer Deliveries(const PageRequest& request, const DeliveryLog& log) const;
  // BASE/audit: the page, or {"audit":[...]} (filters actor, action, target in the query).
  Answer Audit(const PageRequest& request) const;

  Answer LoginForm(const PageRequest& request) const;
  Answer Logout(const PageRequest& request);
  static Answer Static(std::string_view file);
  // 303 to BASE/login (a page asked for without a session).
  Answer ToLogin() const;
  // A page for a refusal (403) or an error, for browsers.
  Answer ErrorPage(const PageRequest& request, int status, std::string_view message) const;

 private:
  static void OnThread(Background& thread, Deliver&& deliver, std::move_only_function<Answer()> render);
  Answer RenderHome(const PageRequest& request);
  Answer RenderStack(const PageRequest& request);
  Answer PageOf(const PageRequest& request, int status, std::string html) const;
  Answer CheckLogin(const PageRequest& request);

  DashboardOptions options_;
  state::Store& store_;
  StackCatalog& catalog_;
  Gatekeeper& gate_;
  state::AuditLog* audit_;
  void Record(const PageRequest& request, std::string actor, std::string action, std::string result) const;
  Background pages_{"pages", 64};
  Background logins_{"logins", 64};
};

// True when the request's Accept header asks for HTML first (a browser), not JSON.
bool WantsHtml(std::string_view accept);

}  // namespace podcd::http
