// The dashboard's gate on the real server: logins, sessions, CSRF, roles, tokens, base path.
#include <sys/stat.h>

#include <thread>

#include <catch2/catch.hpp>

#include "auth/password.hpp"
#include "auth/tokens.hpp"
#include "harness.hpp"
#include "http/gate.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

const std::string kHtml = "Accept: text/html,application/xhtml+xml,*/*;q=0.8";
const std::string kForm = "Content-Type: application/x-www-form-urlencoded";

// A users file with an ADMIN and a USER (cheap hashes: the test's time, not the product's).
std::string UsersFile(const TempDir& dir) {
  const auth::Argon2Cost cheap{64, 1, 1};
  auto path = dir.Write("users", "# who may log in\nADMIN:alice:" + *auth::HashPassword("alice-pw", cheap) +
                                     "\nUSER:bob:" + *auth::HashPassword("bob-pw", cheap) + "\n");
  ::chmod(path.c_str(), 0600);
  return path.string();
}

http::ServerOptions WithUsers(const TempDir& dir, std::string base_path = "") {
  http::ServerOptions o;
  o.users_file = UsersFile(dir);
  o.tokens_file = (dir / "tokens.json").string();
  o.base_path = std::move(base_path);
  return o;
}

// The session cookie's "name=value" from a login's answer, "" when there is none.
std::string SessionOf(const HttpResult& r) {
  const std::string set = r.Header("Set-Cookie");
  return set.substr(0, set.find(';'));
}

// The CSRF token in a page's forms.
std::string CsrfOf(const std::string& page) {
  const std::string mark = "name=\"csrf\" value=\"";
  const auto at = page.find(mark);
  if (at == std::string::npos) return "";
  return page.substr(at + mark.size(), 64);
}

HttpResult LogIn(Harness& h, const std::string& user, const std::string& password,
                 const std::string& prefix = "") {
  return h.Post(prefix + "/login", "username=" + user + "&password=" + password, {kForm, kHtml});
}

}  // namespace

TEST_CASE("dashboard: with users, nothing but /health, /login and static files answers without a login") {
  TempDir dir;
  Harness h(WithUsers(dir));
  CHECK(h.Get("/health").status == 200);
  CHECK(h.Get("/static/podcd.css").status == 200);
  CHECK(h.Get("/login", {kHtml}).status == 200);
  // Loopback included: a reverse proxy on the same host makes every request loopback.
  CHECK(h.Get("/stacks").status == 401);
  CHECK(h.Get("/deployments").status == 401);
  CHECK(h.Get("/metrics").status == 401);
  CHECK(h.Post("/deploy", R"({"all_changed":true})").status == 401);
  auto page = h.Get("/", {kHtml});
  CHECK(page.status == 303);
  CHECK(page.Header("Location") == "/login");
  // Webhooks keep their signatures.
  CHECK(h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Event: push"}).status == 202);
}

TEST_CASE("dashboard: a login gives a strict session cookie; a wrong one is answered alike for any user") {
  TempDir dir;
  Harness h(WithUsers(dir));
  auto form = h.Get("/login", {kHtml});
  CHECK(form.body.find("name=\"username\"") != std::string::npos);
  CHECK(form.Header("Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  CHECK(form.Header("X-Frame-Options") == "DENY");
  auto wrong = LogIn(h, "alice", "nope");
  auto unknown = LogIn(h, "mallory", "alice-pw");
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.body == unknown.body.replace(unknown.body.find("mallory"), 7, "alice"));
  CHECK(wrong.Header("Set-Cookie").empty());
  auto ok = LogIn(h, "alice", "alice-pw");
  REQUIRE(ok.status == 303);
  CHECK(ok.Header("Location") == "/");
  const std::string set = ok.Header("Set-Cookie");
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("SameSite=Strict") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain HTTP, no trusted proxy
  const std::string cookie = "Cookie: " + SessionOf(ok);
  auto home = h.Get("/", {kHtml, cookie});
  CHECK(home.status == 200);
  CHECK(home.body.find(">web</a>") != std::string::npos);
  CHECK(home.body.find("Deploy all changed") != std::string::npos);
  CHECK(h.Get("/stacks", {cookie}).status == 200);  // the JSON API with the session too
  // Logging out ends the session on the server, not only in the browser.
  auto out = h.Post("/logout", "csrf=" + CsrfOf(home.body), {kForm, kHtml, cookie});
  CHECK(out.status == 303);
  CHECK(out.Header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(h.Get("/", {kHtml, cookie}).status == 303);
}

TEST_CASE("dashboard: a session's actions need its CSRF token and a same-site request") {
  TempDir dir;
  Harness h(WithUsers(dir));
  const std::string cookie = "Cookie: " + SessionOf(LogIn(h, "alice", "alice-pw"));
  const std::string csrf = CsrfOf(h.Get("/", {kHtml, cookie}).body);
  REQUIRE(csrf.size() == 64);
  const std::string body = R"({"all_changed":true})";
  CHECK(h.Post("/deploy", body, {cookie}).status == 403);
  CHECK(h.Post("/deploy", body, {cookie, "X-CSRF-Token: " + std::string(64, '0')}).status == 403);
  CHECK(h.Post("/deploy", body, {cookie, "X-CSRF-Token: " + csrf, "Origin: http://evil.example"}).status ==
        403);
  CHECK(h.Post("/deploy", body, {cookie, "X-CSRF-Token: " + csrf, "Sec-Fetch-Site: cross-site"}).status ==
        403);
  CHECK(h.Post("/deploy", body, {cookie, "X-CSRF-Token: " + csrf}).status == 202);
}

TEST_CASE("dashboard: USER reads and is refused every action, however it is made") {
  TempDir dir;
  Harness h(WithUsers(dir));
  const std::string cookie = "Cookie: " + SessionOf(LogIn(h, "bob", "bob-pw"));
  auto home = h.Get("/", {kHtml, cookie});
  CHECK(home.status == 200);
  CHECK(home.body.find("Deploy all changed") == std::string::npos);
  CHECK(home.body.find("<button type=\"submit\" class=\"action\"") == std::string::npos);
  const std::string csrf = CsrfOf(home.body);  // the logout form's
  CHECK(h.Get("/deployments", {cookie}).status == 200);
  CHECK(h.Post("/deploy", R"({"all_changed":true})", {cookie, "X-CSRF-Token: " + csrf}).status == 403);
  CHECK(h.Post("/deploy", R"({"all_changed":true})", {cookie}).status == 403);
}

TEST_CASE("dashboard: per-user tokens act within their scope and their user's role; api.token is admin") {
  TempDir dir;
  auto o = WithUsers(dir);
  o.api_token = "the-admin-api-token-of-old";
  auto deploy = auth::MintToken("alice", auth::Scope::kDeploy, 1);
  auto read = auth::MintToken("alice", auth::Scope::kRead, 1);
  REQUIRE(auth::SaveTokens(o.tokens_file, {deploy->record, read->record}));
  Harness h(o);
  const std::string body = R"({"all_changed":true})";
  CHECK(h.Post("/deploy", body, {"Authorization: Bearer " + deploy->token}).status == 202);
  CHECK(h.Post("/deploy", body, {"Authorization: Bearer " + read->token}).status == 403);
  CHECK(h.Get("/stacks", {"Authorization: Bearer " + read->token}).status == 200);
  CHECK(h.Post("/deploy", body, {"Authorization: Bearer the-admin-api-token-of-old"}).status == 202);
  CHECK(h.Get("/stacks", {"Authorization: Bearer " + read->token + "x"}).status == 401);
}

TEST_CASE("dashboard: under http.base_path every route and link and the cookie live under the prefix") {
  TempDir dir;
  Harness h(WithUsers(dir, "/podcd"));
  CHECK(h.Get("/podcd/health").status == 200);
  auto to_login = h.Get("/podcd/", {kHtml});
  CHECK(to_login.status == 303);
  CHECK(to_login.Header("Location") == "/podcd/login");
  CHECK(h.Get("/podcd/login", {kHtml}).body.find("action=\"/podcd/login\"") != std::string::npos);
  auto ok = LogIn(h, "alice", "alice-pw", "/podcd");
  CHECK(ok.Header("Location") == "/podcd/");
  CHECK(ok.Header("Set-Cookie").find("Path=/podcd;") != std::string::npos);
  auto home = h.Get("/podcd", {kHtml, "Cookie: " + SessionOf(ok)});
  CHECK(home.status == 200);
  CHECK(home.body.find("href=\"/podcd/static/podcd.css\"") != std::string::npos);
  CHECK(home.body.find("action=\"/podcd/actions/deploy-all-changed\"") != std::string::npos);
}

TEST_CASE("dashboard: without users, loopback browsers see it, and another site cannot act through them") {
  Harness h;
  auto home = h.Get("/", {kHtml});
  CHECK(home.status == 200);
  CHECK(home.body.find("Deploy all changed") != std::string::npos);
  const std::string body = R"({"all_changed":true})";
  CHECK(h.Post("/deploy", body, {"Origin: http://evil.example"}).status == 403);
  CHECK(h.Post("/deploy", body, {"Origin: null"}).status == 403);
  CHECK(h.Post("/deploy", body).status == 202);  // curl and scripts send no Origin
  CHECK(h.Post("/login", "username=a&password=b", {kForm}).status == 404);
}

TEST_CASE("dashboard: a running deployment's log streams as server-sent events until it ends") {
  Harness h;
  auto queued = h.Post("/deploy", R"({"all_changed":true})");
  REQUIRE(queued.status == 202);
  const std::string id = QueuedId(queued);
  h.exec.WaitEntered(1);
  const std::string request =
      "GET /deployments/" + id + "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  std::string streamed;
  std::thread reader([&] { streamed = RawExchange(h.server->Port(), request, std::chrono::seconds(30)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the stream is open while the run waits
  h.exec.Release();
  reader.join();
  CHECK(streamed.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(streamed.find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(streamed.find("id: 0\ndata: ") != std::string::npos);
  CHECK(streamed.find("data: gated run of deploy\n") != std::string::npos);
  CHECK(streamed.ends_with("event: end\ndata: succeeded\n\n"));
  // A reconnecting EventSource resumes after its Last-Event-ID; a finished record ends at once.
  const std::string resume =
      "GET /deployments/" + id + "/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n";
  const std::string rest = RawExchange(h.server->Port(), resume, std::chrono::seconds(10));
  CHECK(rest.find("\r\n\r\n") != std::string::npos);
  CHECK(rest.find("id: 0\n") == std::string::npos);  // the run logged one line: nothing after it
  CHECK(rest.ends_with("event: end\ndata: succeeded\n\n"));
  CHECK(h.Get("/deployments/nope/events").status == 404);
}

TEST_CASE("dashboard: recent webhook deliveries, accepted and rejected, with the reason and never a body") {
  Harness h;
  const std::string body = R"({"ref":"refs/heads/main","secret_in_body":"do-not-show"})";
  REQUIRE(h.Signed("/deploy-all-changed", body, {"X-GitHub-Event: push", "X-GitHub-Delivery: d-1"}).status ==
          202);
  REQUIRE(h.Post("/deploy-all-changed", body, {"X-GitHub-Event: push", "X-Hub-Signature-256: sha256=00"})
              .status == 401);
  auto listed = h.Get("/deliveries");
  REQUIRE(listed.status == 200);
  auto d = Json(listed.body);
  REQUIRE(d["deliveries"].Size() == 2);
  CHECK(Str(d["deliveries"][0], "outcome") == "rejected");
  CHECK(Str(d["deliveries"][0], "reason") == "invalid or missing signature");
  CHECK(Str(d["deliveries"][1], "outcome") == "queued");
  CHECK(Str(d["deliveries"][1], "delivery") == "d-1");
  CHECK(Str(d["deliveries"][1], "event") == "push");
  CHECK(Str(d["deliveries"][1], "deployment").size() > 10);
  CHECK(listed.body.find("do-not-show") == std::string::npos);
  CHECK(listed.body.find("sha256") == std::string::npos);
}
