// `podcd token create --user NAME --scope read|deploy|admin`, `podcd token list`,
// `podcd token revoke ID`: per-user API tokens in the state directory (auth/tokens.hpp).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "auth/tokens.hpp"
#include "auth/users.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd token create --user NAME --scope read|deploy|admin\n"
    "       podcd token list\n"
    "       podcd token revoke ID\n"
    "A token's scope is at most what its user's role allows: USER read, ADMIN any.\n";

int Usage(const char* why) {
  std::fprintf(stderr, "podcd token: %s\n%s", why, kUsage);
  return kExitUsage;
}

std::string Date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int Create(const config::Config& cfg, const std::filesystem::path& file, const Args& args) {
  std::string user, scope_word;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if ((args[i] == "--user" || args[i] == "--scope") && i + 1 < args.size())
      (args[i] == "--user" ? user : scope_word) = args[i + 1], ++i;
    else
      return Usage(("unexpected argument \"" + args[i] + "\"").c_str());
  }
  const auto scope = auth::ParseScope(scope_word);
  if (user.empty() || !scope) return Usage("create needs --user NAME and --scope read|deploy|admin");
  if (cfg.auth.users_file.empty()) {
    std::fprintf(stderr, "podcd token: no users are configured (auth.users_file, docs/users.md)\n");
    return kExitFailure;
  }
  auto users = auth::LoadUsers(cfg.auth.users_file);
  if (!users) {
    std::fprintf(stderr, "podcd token: %s\n", users.error().What().c_str());
    return kExitFailure;
  }
  const auth::User* u = users->Find(user);
  if (u == nullptr) {
    std::fprintf(stderr, "podcd token: no user %s in %s\n", user.c_str(), cfg.auth.users_file.c_str());
    return kExitFailure;
  }
  if (u->role != auth::Role::kAdmin && *scope != auth::Scope::kRead) {
    std::fprintf(stderr, "podcd token: user %s has role USER, which allows scope read only\n", user.c_str());
    return kExitFailure;
  }
  auto records = auth::LoadTokens(file);
  if (!records) {
    std::fprintf(stderr, "podcd token: %s\n", records.error().What().c_str());
    return kExitFailure;
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto minted = auth::MintToken(user, *scope, now);
  if (!minted) {
    std::fprintf(stderr, "podcd token: %s\n", minted.error().What().c_str());
    return kExitFailure;
  }
  records->push_back(minted->record);
  if (auto saved = auth::SaveTokens(file, *records); !saved) {
    std::fprintf(stderr, "podcd token: %s\n", saved.error().What().c_str());
    return kExitFailure;
  }
  std::printf("token %s for %s, scope %s; shown once, only its digest is kept:\n%s\n",
              minted->record.id.c_str(), user.c_str(), std::string(auth::ToString(*scope)).c_str(),
              minted->token.c_str());
  return kExitOk;
}

}  // namespace

int Token(const GlobalOptions& g, const Args& args) {
  if (args.empty()) return Usage("which: create, list or revoke?");
  const std::string& verb = args[0];
  if (verb != "create" && verb != "list" && verb != "revoke")
    return Usage(("no verb \"" + verb + "\"").c_str());
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  const auto file = auth::TokensFile((*cfg)->state_dir);
  if (verb == "create") return Create(**cfg, file, args);
  auto records = auth::LoadTokens(file);
  if (!records) {
    std::fprintf(stderr, "podcd token: %s\n", records.error().What().c_str());
    return kExitFailure;
  }
  if (verb == "list") {
    if (args.size() != 1) return Usage("list takes no argument");
    std::printf("%-12s  %-20s  %-6s  %s\n", "ID", "USER", "SCOPE", "CREATED");
    for (const auto& r : *records)
      std::printf("%-12s  %-20s  %-6s  %s\n", r.id.c_str(), r.user.c_str(),
                  std::string(auth::ToString(r.scope)).c_str(), Date(r.created_ms).c_str());
    return kExitOk;
  }
  if (args.size() != 2) return Usage("revoke takes one token id");
  const auto before = records->size();
  std::erase_if(*records, [&](const auth::TokenRecord& r) { return r.id == args[1]; });
  if (records->size() == before) {
    std::fprintf(stderr, "podcd token: no token %s\n", args[1].c_str());
    return kExitFailure;
  }
  if (auto saved = auth::SaveTokens(file, *records); !saved) {
    std::fprintf(stderr, "podcd token: %s\n", saved.error().What().c_str());
    return kExitFailure;
  }
  std::printf("token %s revoked\n", args[1].c_str());
  return kExitOk;
}

}  // namespace podcd::cli
