// Who is asking, and may they: the server's one place for the api.token, the users file, the
// per-user tokens, the login sessions and the failed-login limiter. No Pistache here: the server
// hands in the headers and the client's address, and gets a Principal or a refusal back.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/login_limiter.hpp"
#include "auth/sessions.hpp"
#include "auth/tokens.hpp"
#include "auth/users.hpp"
#include "http/webhook.hpp"
#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::http {

// How a request proved who it is.
enum class Via : std::uint8_t {
  kNone,      // nothing, or nothing valid
  kSession,   // the dashboard's session cookie
  kToken,     // a per-user API token (Bearer podcd_...)
  kApiToken,  // api.token (Bearer): an admin
  kLoopback,  // no users and no api.token: loopback clients act as admin, as before users existed
};

struct Principal {
  Via via = Via::kNone;
  std::string user;      // kSession, kToken
  std::string token_id;  // kToken
  auth::Scope scope = auth::Scope::kRead;
  std::string session_id;  // kSession
  std::string csrf;        // kSession: the session's token; kLoopback: the process's

  [[nodiscard]] bool Known() const { return via != Via::kNone; }
  [[nodiscard]] bool Allows(auth::Scope needed) const { return Known() && auth::Allows(scope, needed); }
  // "user:alice", "token:3f9c0e12ab44:alice", "api-token", "loopback"; "" for nobody.
  [[nodiscard]] std::string Actor() const;
};

struct GateOptions {
  std::string api_token;
  std::string users_file;             // "" : no users (the API answers api.token, or loopback without one)
  std::filesystem::path tokens_file;  // per-user tokens (auth::TokensFile(state_dir))
  auth::SessionPolicy sessions;
  auth::LoginLimits logins;
};

class Gatekeeper {
 public:
  using Clock = std::chrono::steady_clock;
  // Reads the users file (an error names it; the daemon does not start with a bad one).
  static Expected<std::unique_ptr<Gatekeeper>> Open(GateOptions options);

  // SIGHUP: a new api.token and users file. A bad users file keeps the old one (error returned);
  // sessions of users who are gone or whose role changed end.
  Expected<void> Reload(std::string api_token, std::string users_file);

  // True once a users file is configured: then nothing but /health, /login and the static files
  // is answered without a session or a token, loopback included.
  [[nodiscard]] bool UsersConfigured() const;
  [[nodiscard]] std::vector<std::string> Warnings() const;  // legacy hashes, for the log

  struct Identified {
    Principal principal;
    bool bad_bearer = false;  // an Authorization header that named no one: a failed authentication
  };
  // The Authorization header wins over the cookie. `client` is the resolved client address.
  Identified Identify(const RequestHeaders& headers, std::string_view client, Clock::time_point now);

  // The slow part of a login (Argon2id): call it off the reactor threads. Unknown users cost the
  // same as known ones; a limited user or address is refused without checking the password.
  struct LoginResult {
    std::optional<auth::Session> session;
    std::string outcome;  // "ok", "failed" (wrong user or password), "limited"
  };
  LoginResult Login(std::string_view user, std::string_view password, std::string_view client,
                    Clock::time_point now);
  void Logout(std::string_view session_id);

  // True when `presented` is the principal's CSRF token (sessions and loopback dashboards).
  [[nodiscard]] static bool CsrfValid(const Principal& p, std::string_view presented);

 private:
  explicit Gatekeeper(GateOptions options) : options_(std::move(options)) {}
  std::optional<auth::TokenRecord> FindToken(std::string_view presented);

  GateOptions options_;
  struct Shared {
    std::string api_token;
    std::shared_ptr<const auth::Users> users;  // null: no users file
  };
  Guarded<Shared> shared_;
  struct TokenCache {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    std::vector<auth::TokenRecord> records;
  };
  Guarded<TokenCache> tokens_;
  auth::Sessions sessions_{options_.sessions};
  auth::LoginLimiter limiter_{options_.logins};
  std::string loopback_csrf_;  // the process's CSRF token for a dashboard without users
  std::string dummy_hash_;     // verified for unknown users, so that they cost the same
};

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(std::string_view header, std::string_view name);

// The session cookie's Set-Cookie value: HttpOnly, SameSite=Strict, Path=BASE/, Secure over TLS.
inline constexpr std::string_view kSessionCookie = "podcd_session";
std::string SessionCookie(std::string_view session_id, std::string_view base_path, bool secure);
std::string ClearedSessionCookie(std::string_view base_path, bool secure);

}  // namespace podcd::http
