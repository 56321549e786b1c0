#include "auth/sessions.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "auth/random.hpp"

namespace podcd::auth {

Expected<Session> Sessions::Create(std::string user, Role role, Clock::time_point now) {
  auto id = RandomHex(32);
  if (!id) return std::unexpected(id.error());
  auto csrf = RandomHex(32);
  if (!csrf) return std::unexpected(csrf.error());
  Session s{*id, *csrf, std::move(user), role, now, now};
  auto table = table_.Lock();
  while (!table->empty() && table->size() >= std::max<std::size_t>(1, policy_.max_sessions)) {
    auto oldest = std::min_element(table->begin(), table->end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    table->erase(oldest);
  }
  table->emplace(s.id, s);
  return s;
}

std::optional<Session> Sessions::Touch(std::string_view id, Clock::time_point now) {
  auto table = table_.Lock();
  auto it = table->find(id);
  if (it == table->end()) return std::nullopt;
  Session& s = it->second;
  if (now - s.last_seen >= policy_.idle || now - s.created >= policy_.absolute) {
    table->erase(it);
    return std::nullopt;
  }
  s.last_seen = now;
  return s;
}

void Sessions::Remove(std::string_view id) {
  auto table = table_.Lock();
  if (auto it = table->find(id); it != table->end()) table->erase(it);
}

void Sessions::RemoveUser(std::string_view user) {
  auto table = table_.Lock();
  std::erase_if(*table, [&](const auto& entry) { return entry.second.user == user; });
}

std::size_t Sessions::Size() const { return table_.Lock()->size(); }

bool CsrfMatches(const Session& session, std::string_view presented) {
  return presented.size() == session.csrf.size() && !presented.empty() &&
         CRYPTO_memcmp(presented.data(), session.csrf.data(), presented.size()) == 0;
}

}  // namespace podcd::auth
