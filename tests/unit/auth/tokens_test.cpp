// Per-user API tokens: what is stored is a digest; only the exact token authenticates.
#include "auth/tokens.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

using namespace podcd;
using namespace podcd::auth;

TEST_CASE("tokens: scopes are ordered read < deploy < admin, by name") {
  CHECK(ParseScope("read") == Scope::kRead);
  CHECK(ParseScope("deploy") == Scope::kDeploy);
  CHECK(ParseScope("admin") == Scope::kAdmin);
  CHECK_FALSE(ParseScope("Admin").has_value());
  CHECK_FALSE(ParseScope("").has_value());
  CHECK(Allows(Scope::kAdmin, Scope::kDeploy));
  CHECK(Allows(Scope::kDeploy, Scope::kDeploy));
  CHECK_FALSE(Allows(Scope::kRead, Scope::kDeploy));
  CHECK_FALSE(Allows(Scope::kDeploy, Scope::kAdmin));
}

TEST_CASE("tokens: a minted token authenticates as its record; any other string does not") {
  auto a = MintToken("alice", Scope::kDeploy, 1000);
  auto b = MintToken("bob", Scope::kRead, 2000);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->token.starts_with("podcd_" + a->record.id + "_"));
  CHECK(a->token.size() == 6 + 12 + 1 + 64);
  CHECK(a->record.id != b->record.id);
  // The secret is not in the record.
  CHECK(a->token.find(a->record.digest) == std::string::npos);
  CHECK(SerializeTokens({a->record}).find(a->token.substr(19)) == std::string::npos);
  const std::vector<TokenRecord> records{a->record, b->record};
  CHECK(Authenticate(records, a->token) == a->record);
  CHECK(Authenticate(records, b->token) == b->record);
  // One character changed, cut, extended, another's id with this secret, empty.
  std::string changed = a->token;
  changed.back() = changed.back() == '0' ? '1' : '0';
  CHECK_FALSE(Authenticate(records, changed).has_value());
  CHECK_FALSE(Authenticate(records, a->token.substr(0, a->token.size() - 1)).has_value());
  CHECK_FALSE(Authenticate(records, a->token + "0").has_value());
  CHECK_FALSE(Authenticate(records, "podcd_" + b->record.id + a->token.substr(18)).has_value());
  CHECK_FALSE(Authenticate(records, "").has_value());
  CHECK_FALSE(Authenticate(records, "Bearer " + a->token).has_value());
  // Revoked: gone from the records.
  CHECK_FALSE(Authenticate({b->record}, a->token).has_value());
}

TEST_CASE("tokens: the file round-trips, is private, and a malformed one is refused") {
  auto a = MintToken("alice", Scope::kAdmin, 1234);
  REQUIRE(a.has_value());
  const auto dir = std::filesystem::temp_directory_path() / ("podcd-tokens-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = TokensFile(dir);
  auto none = LoadTokens(file);
  REQUIRE(none.has_value());
  CHECK(none->empty());
  REQUIRE(SaveTokens(file, {a->record}).has_value());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto back = LoadTokens(file);
  REQUIRE(back.has_value());
  CHECK(*back == std::vector<TokenRecord>{a->record});
  CHECK(Authenticate(*back, a->token).has_value());
  std::filesystem::remove_all(dir);

  CHECK_FALSE(ParseTokens("[]", "t").has_value());
  CHECK_FALSE(
      ParseTokens(R"({"tokens":[{"id":"x","user":"a","scope":"read","sha256":"00"}]})", "t").has_value());
  const std::string bad_scope = SerializeTokens({a->record});
  std::string edited = bad_scope;
  edited.replace(edited.find("\"admin\""), 7, "\"root\"");
  auto refused = ParseTokens(edited, "tokens.json");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().What() == "tokens.json: token 1 is malformed");
}
