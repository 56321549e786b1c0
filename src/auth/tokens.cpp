#include "auth/tokens.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <system_error>

#include "auth/random.hpp"
#include "util/json.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::auth {
namespace {

constexpr std::size_t kIdBytes = 6;
constexpr std::size_t kSecretBytes = 32;
constexpr std::string_view kPrefix = "podcd_";

bool IsHex(std::string_view s, std::size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(Scope scope) {
  switch (scope) {
    case Scope::kRead: return "read";
    case Scope::kDeploy: return "deploy";
    case Scope::kAdmin: return "admin";
  }
  return "read";
}

std::optional<Scope> ParseScope(std::string_view word) {
  for (Scope s : {Scope::kRead, Scope::kDeploy, Scope::kAdmin}) {
    if (ToString(s) == word) return s;
  }
  return std::nullopt;
}

Expected<MintedToken> MintToken(std::string user, Scope scope, std::int64_t now_ms) {
  auto id = RandomHex(kIdBytes);
  if (!id) return std::unexpected(id.error());
  auto secret = RandomHex(kSecretBytes);
  if (!secret) return std::unexpected(secret.error());
  MintedToken out;
  out.record = {*id, std::move(user), scope, Sha256Hex(*secret), now_ms};
  out.token = std::string(kPrefix) + *id + "_" + *secret;
  return out;
}

std::optional<TokenRecord> Authenticate(const std::vector<TokenRecord>& records, std::string_view presented) {
  if (!presented.starts_with(kPrefix)) return std::nullopt;
  presented.remove_prefix(kPrefix.size());
  const std::string_view id = presented.substr(0, 2 * kIdBytes);
  if (!IsHex(id, 2 * kIdBytes) || presented.size() != 2 * kIdBytes + 1 + 2 * kSecretBytes ||
      presented[2 * kIdBytes] != '_')
    return std::nullopt;
  const std::string digest = Sha256Hex(presented.substr(2 * kIdBytes + 1));
  for (const auto& r : records) {
    if (r.id != id || r.digest.size() != digest.size()) continue;
    if (CRYPTO_memcmp(r.digest.data(), digest.data(), digest.size()) == 0) return r;
  }
  return std::nullopt;
}

Expected<std::vector<TokenRecord>> ParseTokens(std::string_view text, std::string_view file) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("tokens") || !doc["tokens"].IsArray())
    return Fail(ErrorCode::kInvalidArgument, "not a tokens file ({\"tokens\": [...]})", std::string(file));
  std::vector<TokenRecord> out;
  for (const auto& t : doc["tokens"].GetArray()) {
    TokenRecord r{json::GetStr(t, "id"), json::GetStr(t, "user"), Scope::kRead, json::GetStr(t, "sha256"),
                  json::GetInt(t, "created_ms")};
    auto scope = ParseScope(json::GetStr(t, "scope"));
    if (!IsHex(r.id, 2 * kIdBytes) || r.user.empty() || !scope || !IsHex(r.digest, 2 * kSha256Size))
      return Fail(ErrorCode::kInvalidArgument, "token " + std::to_string(out.size() + 1) + " is malformed",
                  std::string(file));
    r.scope = *scope;
    out.push_back(std::move(r));
  }
  return out;
}

std::string SerializeTokens(const std::vector<TokenRecord>& records) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("tokens");
  w.StartArray();
  for (const auto& r : records) {
    w.StartObject();
    json::Str(w, "id", r.id);
    json::Str(w, "user", r.user);
    json::Str(w, "scope", ToString(r.scope));
    json::Str(w, "sha256", r.digest);
    json::Int(w, "created_ms", r.created_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::filesystem::path TokensFile(const std::filesystem::path& state_dir) { return state_dir / "tokens.json"; }

Expected<std::vector<TokenRecord>> LoadTokens(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::vector<TokenRecord>{};
  auto text = ReadFile(file, 4u << 20);
  if (!text) return std::unexpected(text.error());
  return ParseTokens(*text, file.string());
}

Expected<void> SaveTokens(const std::filesystem::path& file, const std::vector<TokenRecord>& records) {
  if (auto w = WriteFileAtomic(file, SerializeTokens(records)); !w) return w;
  if (::chmod(file.c_str(), 0600) != 0)
    return Fail(ErrorCode::kIo, "cannot make it private (chmod 0600)", file.string());
  return {};
}

}  // namespace podcd::auth
