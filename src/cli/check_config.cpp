#include <cstdio>
#include <filesystem>

#include "auth/users.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "config/config.hpp"
#include "reconcile/desired.hpp"
#include "util/log.hpp"

namespace podcd::cli {

namespace {

// `check-config --keys`: the defaults table as Markdown (docs/configuration.md embeds it).
int PrintKeys() {
  std::printf("| key | default | environment | meaning |\n| --- | --- | --- | --- |\n");
  for (const auto& k : config::DescribeKeys()) {
    std::string env;
    for (const auto& e : k.env) env += (env.empty() ? "`" : ", `") + e + "`";
    std::printf("| `%s` | %s | %s | %s |\n", k.key.c_str(),
                k.default_value.empty() ? "" : ("`" + k.default_value + "`").c_str(), env.c_str(),
                k.help.c_str());
  }
  return kExitOk;
}

}  // namespace

int CheckConfig(const GlobalOptions& g, const Args& args) {
  if (args.size() == 1 && args.front() == "--keys") return PrintKeys();
  if (!args.empty()) {
    std::fprintf(stderr, "podcd check-config: unexpected argument \"%s\"\n", args.front().c_str());
    return kExitUsage;
  }
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  std::printf("%s\n", config::Summary(**cfg).c_str());
  if (!(*cfg)->auth.users_file.empty()) {
    auto users = auth::LoadUsers((*cfg)->auth.users_file);
    if (!users) {
      std::fprintf(stderr, "%s\n", users.error().What().c_str());
      return kExitFailure;
    }
    for (const auto& warning : users->warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    std::printf("users: %zu in %s\n", users->users.size(), (*cfg)->auth.users_file.c_str());
  }
  // The stacks too, when the work tree is there (a clone appears only at the first sync).
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path((*cfg)->repo.path) / (*cfg)->repo.services_dir,
                                     ec)) {
    std::printf("stacks: not checked, %s/%s does not exist yet\n", (*cfg)->repo.path.c_str(),
                (*cfg)->repo.services_dir.c_str());
    return kExitOk;
  }
  auto desired = reconcile::LoadDesired(**cfg);
  if (!desired) {
    std::fprintf(stderr, "%s\n", desired.error().What().c_str());
    return kExitFailure;
  }
  int bad = 0;
  for (const auto& st : desired->stacks) {
    if (st.status == core::StackStatus::kOk) continue;
    ++bad;
    for (const auto& p : st.problems) {
      std::fprintf(stderr, "stack %s %s: %s\n", st.name.c_str(),
                   st.status == core::StackStatus::kInvalid ? "invalid" : "refused",
                   log::Masked(p).c_str());  // values read from the secrets directory
    }
  }
  std::printf("stacks: %zu valid, %d with errors\n", desired->stacks.size() - static_cast<size_t>(bad), bad);
  return bad == 0 ? kExitOk : kExitFailure;
}

}  // namespace podcd::cli
