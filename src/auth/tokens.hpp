// Per-user API tokens: minted once (the secret is shown then and never stored), kept as a
// SHA-256 digest in the state directory, presented as a Bearer token. A 256-bit random secret
// needs no slow hash: its digest cannot be searched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::auth {

// What a token may do; each includes the ones before it.
enum class Scope : std::uint8_t { kRead, kDeploy, kAdmin };
std::string_view ToString(Scope scope);
std::optional<Scope> ParseScope(std::string_view word);
inline bool Allows(Scope granted, Scope needed) { return granted >= needed; }

struct TokenRecord {
  std::string id;  // 12 hex digits, shown by `token list`, named by `token revoke`
  std::string user;
  Scope scope = Scope::kRead;
  std::string digest;  // sha256 hex of the secret part
  std::int64_t created_ms = 0;
  bool operator==(const TokenRecord&) const = default;
};

struct MintedToken {
  TokenRecord record;
  std::string token;  // "podcd_<id>_<secret>": printed once, never stored
};

// A new token for `user` with a fresh id and secret (auth::RandomHex: the kernel's getrandom).
Expected<MintedToken> MintToken(std::string user, Scope scope, std::int64_t now_ms);

// The record a presented token belongs to, compared in constant time; nullopt for anything else.
std::optional<TokenRecord> Authenticate(const std::vector<TokenRecord>& records, std::string_view presented);

// The tokens file (JSON): parsed, and written back.
Expected<std::vector<TokenRecord>> ParseTokens(std::string_view text, std::string_view file);
std::string SerializeTokens(const std::vector<TokenRecord>& records);

// state_dir/tokens.json: read (none yet reads as empty) and written atomically, mode 0600.
std::filesystem::path TokensFile(const std::filesystem::path& state_dir);
Expected<std::vector<TokenRecord>> LoadTokens(const std::filesystem::path& file);
Expected<void> SaveTokens(const std::filesystem::path& file, const std::vector<TokenRecord>& records);

}  // namespace podcd::auth
