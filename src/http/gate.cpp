#include "http/gate.hpp"

#include <algorithm>
#include <system_error>

#include "auth/password.hpp"
#include "auth/random.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace {

auth::Scope ScopeOf(auth::Role role) {
  return role == auth::Role::kAdmin ? auth::Scope::kAdmin : auth::Scope::kRead;
}

}  // namespace

std::string Principal::Actor() const {
  switch (via) {
    case Via::kNone: return "";
    case Via::kSession: return "user:" + user;
    case Via::kToken: return "token:" + token_id + ":" + user;
    case Via::kApiToken: return "api-token";
    case Via::kLoopback: return "loopback";
  }
  return "";
}

Expected<std::unique_ptr<Gatekeeper>> Gatekeeper::Open(GateOptions options) {
  std::unique_ptr<Gatekeeper> gate(new Gatekeeper(std::move(options)));
  auto csrf = auth::RandomHex(32);
  if (!csrf) return std::unexpected(csrf.error());
  gate->loopback_csrf_ = *csrf;
  if (auto r = gate->Reload(gate->options_.api_token, gate->options_.users_file); !r)
    return std::unexpected(r.error());
  return gate;
}

Expected<void> Gatekeeper::Reload(std::string api_token, std::string users_file) {
  std::shared_ptr<const auth::Users> users;
  if (!users_file.empty()) {
    auto loaded = auth::LoadUsers(users_file);
    if (!loaded) return std::unexpected(loaded.error());
    users = std::make_shared<const auth::Users>(std::move(*loaded));
    if (dummy_hash_.empty()) {
      // What an unknown user's login verifies: a hash of a random password, as costly as a real one.
      auto secret = auth::RandomHex(16);
      if (!secret) return std::unexpected(secret.error());
      auto hash = auth::HashPassword(*secret);
      if (!hash) return std::unexpected(hash.error());
      dummy_hash_ = *hash;
    }
  }
  auto shared = shared_.Lock();
  // Sessions of users who are gone, or whose role changed, end now.
  if (shared->users) {
    for (const auto& old : shared->users->users) {
      const auth::User* now = users ? users->Find(old.name) : nullptr;
      if (!now || now->role != old.role) sessions_.RemoveUser(old.name);
    }
  }
  shared->api_token = std::move(api_token);
  shared->users = std::move(users);
  options_.users_file = std::move(users_file);
  return {};
}

bool Gatekeeper::UsersConfigured() const { return shared_.Lock()->users != nullptr; }

std::vector<std::string> Gatekeeper::Warnings() const {
  auto shared = shared_.Lock();
  return shared->users ? shared->users->warnings : std::vector<std::string>{};
}

std::optional<auth::TokenRecord> Gatekeeper::FindToken(std::string_view presented) {
  if (!presented.starts_with("podcd_")) return std::nullopt;
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(options_.tokens_file, ec);
  const auto size = ec ? 0 : std::filesystem::file_size(options_.tokens_file, ec);
  auto cache = tokens_.Lock();
  if (ec) {
    cache->records.clear();  // no tokens file: no tokens
    cache->mtime = {};
  } else if (mtime != cache->mtime || size != cache->size) {
    // Written by `podcd token create|revoke` while the daemon runs: read again when it changed.
    if (auto loaded = auth::LoadTokens(options_.tokens_file)) {
      cache->records = std::move(*loaded);
      cache->mtime = mtime;
      cache->size = size;
    }
  }
  return auth::Authenticate(cache->records, presented);
}

Gatekeeper::Identified Gatekeeper::Identify(const RequestHeaders& headers, std::string_view client,
                                            Clock::time_point now) {
  Identified out;
  const Shared shared = *shared_.Lock();
  if (auto authorization = headers.Get("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view value = Trim(*authorization);
    const std::string_view presented = value.starts_with(kBearer) ? Trim(value.substr(kBearer.size())) : "";
    if (!shared.api_token.empty() && TokenEquals(shared.api_token, presented)) {
      out.principal.via = Via::kApiToken;
      out.principal.scope = auth::Scope::kAdmin;
      return out;
    }
    if (shared.users && !presented.empty()) {
      if (auto record = FindToken(presented)) {
        // A token is worth at most what its user's role is worth now; a removed user's tokens die.
        if (const auth::User* user = shared.users->Find(record->user)) {
          out.principal.via = Via::kToken;
          out.principal.user = record->user;
          out.principal.token_id = record->id;
          out.principal.scope = std::min(record->scope, ScopeOf(user->role));
          return out;
        }
      }
    }
    out.bad_bearer = true;
    return out;
  }
  if (shared.users) {
    const std::string id = CookieValue(headers.Get("Cookie").value_or(""), kSessionCookie);
    if (id.empty()) return out;
    if (auto session = sessions_.Touch(id, now)) {
      out.principal.via = Via::kSession;
      out.principal.user = session->user;
      out.principal.scope = ScopeOf(session->role);
      out.principal.session_id = session->id;
      out.principal.csrf = session->csrf;
    }
    return out;
  }
  if (shared.api_token.empty() && IsLoopbackAddress(client)) {
    out.principal.via = Via::kLoopback;
    out.principal.scope = auth::Scope::kAdmin;
    out.principal.csrf = loopback_csrf_;
  }
  return out;
}

Gatekeeper::LoginResult Gatekeeper::Login(std::string_view user, std::string_view password,
                                          std::string_view client, Clock::time_point now) {
  LoginResult out;
  std::optional<auth::User> found;
  {
    auto shared = shared_.Lock();
    if (shared->users) {
      if (const auth::User* u = shared->users->Find(user)) found = *u;
    }
  }
  // Every refusal costs one Argon2id verification, like a wrong password of a real user.
  if (!limiter_.Allowed(user, client, now)) {
    (void)auth::VerifyPassword(dummy_hash_, password);
    out.outcome = "limited";
    return out;
  }
  const bool slow_hash = found && auth::KindOf(found->hash) == auth::HashKind::kArgon2id;
  bool ok = auth::VerifyPassword(found ? found->hash : dummy_hash_, password) && found.has_value();
  if (!slow_hash) (void)auth::VerifyPassword(dummy_hash_, password);
  if (!ok) {
    limiter_.Failed(user, client, now);
    out.outcome = "failed";
    return out;
  }
  auto session = sessions_.Create(found->name, found->role, now);
  if (!session) {
    out.outcome = "failed";
    return out;
  }
  limiter_.Succeeded(user);
  out.session = std::move(*session);
  out.outcome = "ok";
  return out;
}

void Gatekeeper::Logout(std::string_view session_id) { sessions_.Remove(session_id); }

bool Gatekeeper::CsrfValid(const Principal& p, std::string_view presented) {
  if (p.csrf.empty()) return false;
  auth::Session probe;
  probe.csrf = p.csrf;
  return auth::CsrfMatches(probe, presented);
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    const std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return "";
}

namespace {
std::string CookiePath(std::string_view base_path) {
  return base_path.empty() ? std::string("/") : std::string(base_path);
}
}  // namespace

std::string SessionCookie(std::string_view session_id, std::string_view base_path, bool secure) {
  return std::string(kSessionCookie) + "=" + std::string(session_id) + "; Path=" + CookiePath(base_path) +
         "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string ClearedSessionCookie(std::string_view base_path, bool secure) {
  return std::string(kSessionCookie) + "=; Path=" + CookiePath(base_path) +
         "; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

}  // namespace podcd::http
