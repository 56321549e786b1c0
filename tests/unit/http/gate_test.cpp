// The gate: who a request is (api.token, per-user tokens, sessions, loopback) and logins.
#include "http/gate.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "auth/password.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::http;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kApiToken = "api-token-0123456789abcdef";

struct Fixture {
  test::TempDir dir;
  std::filesystem::path users;
  std::filesystem::path tokens;
  Fixture() {
    // Cheap hashes: the cost of the test, not of the product.
    auth::Argon2Cost cheap{64, 1, 1};
    users = dir.Write("users", "ADMIN:alice:" + *auth::HashPassword("alice-pw", cheap) +
                                   "\nUSER:bob:" + *auth::HashPassword("bob-pw", cheap) + "\n");
    ::chmod(users.c_str(), 0600);
    tokens = dir / "tokens.json";
  }
  std::unique_ptr<Gatekeeper> Open(bool with_users, std::string api_token = std::string(kApiToken)) {
    GateOptions o;
    o.api_token = std::move(api_token);
    o.users_file = with_users ? users.string() : "";
    o.tokens_file = tokens;
    auto gate = Gatekeeper::Open(o);
    REQUIRE(gate.has_value());
    return std::move(*gate);
  }
};

Gatekeeper::Identified Ask(Gatekeeper& g, std::vector<std::pair<std::string, std::string>> headers,
                           std::string_view client = "127.0.0.1") {
  HeaderList list;
  for (auto& [name, value] : headers) list.Add(std::move(name), std::move(value));
  return g.Identify(list, client, std::chrono::steady_clock::now());
}

std::string CookieOf(const auth::Session& s) { return std::string(kSessionCookie) + "=" + s.id; }

}  // namespace

TEST_CASE("gate: without users, loopback acts as admin unless api.token is set; the token is admin") {
  Fixture f;
  auto open = f.Open(false, "");
  CHECK(Ask(*open, {}).principal.via == Via::kLoopback);
  CHECK(Ask(*open, {}).principal.Allows(auth::Scope::kAdmin));
  CHECK_FALSE(Ask(*open, {}, "10.0.0.7").principal.Known());
  auto guarded = f.Open(false);
  CHECK_FALSE(Ask(*guarded, {}).principal.Known());
  auto with_token = Ask(*guarded, {{"Authorization", "Bearer " + std::string(kApiToken)}}, "10.0.0.7");
  CHECK(with_token.principal.via == Via::kApiToken);
  CHECK(with_token.principal.Actor() == "api-token");
  auto wrong = Ask(*guarded, {{"Authorization", "Bearer nope"}});
  CHECK_FALSE(wrong.principal.Known());
  CHECK(wrong.bad_bearer);
}

TEST_CASE(
    "gate: with users, loopback is nobody; a session is its user's role; the cookie is only a session") {
  Fixture f;
  auto g = f.Open(true);
  CHECK(g->UsersConfigured());
  CHECK_FALSE(Ask(*g, {}).principal.Known());  // loopback included
  auto now = std::chrono::steady_clock::now();
  auto login = g->Login("alice", "alice-pw", "127.0.0.1", now);
  REQUIRE(login.session);
  CHECK(login.outcome == "ok");
  auto alice = Ask(*g, {{"Cookie", "theme=dark; " + CookieOf(*login.session) + "; x=1"}});
  CHECK(alice.principal.via == Via::kSession);
  CHECK(alice.principal.Actor() == "user:alice");
  CHECK(alice.principal.Allows(auth::Scope::kAdmin));
  CHECK(Gatekeeper::CsrfValid(alice.principal, login.session->csrf));
  CHECK_FALSE(Gatekeeper::CsrfValid(alice.principal, ""));
  CHECK_FALSE(Gatekeeper::CsrfValid(alice.principal, login.session->id));
  auto bob = g->Login("bob", "bob-pw", "127.0.0.1", now);
  REQUIRE(bob.session);
  auto as_bob = Ask(*g, {{"Cookie", CookieOf(*bob.session)}});
  CHECK(as_bob.principal.Allows(auth::Scope::kRead));
  CHECK_FALSE(as_bob.principal.Allows(auth::Scope::kDeploy));
  // A planted or made-up session id is nobody.
  CHECK_FALSE(
      Ask(*g, {{"Cookie", std::string(kSessionCookie) + "=" + std::string(64, 'a')}}).principal.Known());
  g->Logout(login.session->id);
  CHECK_FALSE(Ask(*g, {{"Cookie", CookieOf(*login.session)}}).principal.Known());
}

TEST_CASE("gate: wrong passwords and unknown users fail alike; the limiter stops guessing") {
  Fixture f;
  auto g = f.Open(true);
  auto now = std::chrono::steady_clock::now();
  CHECK(g->Login("alice", "wrong", "10.0.0.9", now).outcome == "failed");
  CHECK(g->Login("mallory", "alice-pw", "10.0.0.9", now).outcome == "failed");
  CHECK_FALSE(g->Login("bob", "alice-pw", "10.0.0.9", now).session);
  for (int i = 0; i < 5; ++i) (void)g->Login("alice", "guess", "10.0.1." + std::to_string(i), now);
  // Five failures of alice from anywhere: even her right password is refused for a while.
  auto limited = g->Login("alice", "alice-pw", "10.0.2.1", now);
  CHECK(limited.outcome == "limited");
  CHECK_FALSE(limited.session);
  CHECK(g->Login("alice", "alice-pw", "10.0.2.1", now + 16min).outcome == "ok");
}

TEST_CASE("gate: a per-user token is worth at most its user's role now, and dies with the user") {
  Fixture f;
  auto g = f.Open(true);
  auto admin_token = auth::MintToken("alice", auth::Scope::kDeploy, 1);
  auto bob_token = auth::MintToken("bob", auth::Scope::kAdmin, 1);  // more than bob's role
  REQUIRE(admin_token);
  REQUIRE(bob_token);
  REQUIRE(auth::SaveTokens(f.tokens, {admin_token->record, bob_token->record}));
  auto a = Ask(*g, {{"Authorization", "Bearer " + admin_token->token}}, "10.1.1.1");
  CHECK(a.principal.via == Via::kToken);
  CHECK(a.principal.Actor() == "token:" + admin_token->record.id + ":alice");
  CHECK(a.principal.Allows(auth::Scope::kDeploy));
  CHECK_FALSE(a.principal.Allows(auth::Scope::kAdmin));
  auto b = Ask(*g, {{"Authorization", "Bearer " + bob_token->token}});
  CHECK(b.principal.Allows(auth::Scope::kRead));
  CHECK_FALSE(b.principal.Allows(auth::Scope::kDeploy));
  // A token never works as a cookie, nor a cookie as a token; a wrong header is a failure.
  CHECK_FALSE(
      Ask(*g, {{"Cookie", std::string(kSessionCookie) + "=" + admin_token->token}}).principal.Known());
  CHECK(Ask(*g, {{"Authorization", "Basic YWxpY2U6YWxpY2UtcHc="}}).bad_bearer);
  // Revoked in the file while the daemon runs: refused at once.
  REQUIRE(auth::SaveTokens(f.tokens, {bob_token->record}));
  CHECK(Ask(*g, {{"Authorization", "Bearer " + admin_token->token}}).bad_bearer);
  // bob leaves the users file (SIGHUP): his token and sessions end.
  auto session = g->Login("bob", "bob-pw", "127.0.0.1", std::chrono::steady_clock::now());
  REQUIRE(session.session);
  f.dir.Write("users", "ADMIN:alice:" +
                           std::string("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881") +
                           "\n");
  REQUIRE(g->Reload(std::string(kApiToken), f.users.string()));
  CHECK(Ask(*g, {{"Authorization", "Bearer " + bob_token->token}}).bad_bearer);
  CHECK_FALSE(Ask(*g, {{"Cookie", CookieOf(*session.session)}}).principal.Known());
}

TEST_CASE("gate: a users file others may read is refused at open and at reload, keeping the old one") {
  Fixture f;
  ::chmod(f.users.c_str(), 0644);
  GateOptions o;
  o.users_file = f.users.string();
  o.tokens_file = f.tokens;
  CHECK_FALSE(Gatekeeper::Open(o).has_value());
  ::chmod(f.users.c_str(), 0600);
  auto g = f.Open(true);
  ::chmod(f.users.c_str(), 0644);
  CHECK_FALSE(g->Reload("", f.users.string()).has_value());
  CHECK(g->UsersConfigured());
}

TEST_CASE("gate: cookies are read by name; the session cookie is HttpOnly, Strict, Secure over TLS") {
  CHECK(CookieValue("a=1; podcd_session=abc; b=2", "podcd_session") == "abc");
  CHECK(CookieValue("xpodcd_session=abc", "podcd_session").empty());
  CHECK(CookieValue("podcd_session=\"q\"", "podcd_session") == "q");
  CHECK(CookieValue("", "podcd_session").empty());
  CHECK(SessionCookie("id", "", false) == "podcd_session=id; Path=/; HttpOnly; SameSite=Strict");
  CHECK(SessionCookie("id", "/podcd", true) ==
        "podcd_session=id; Path=/podcd; HttpOnly; SameSite=Strict; Secure");
  CHECK(ClearedSessionCookie("", false).find("Max-Age=0") != std::string::npos);
}
