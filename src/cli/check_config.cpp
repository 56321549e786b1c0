#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "auth/users.hpp"
#include "cli/annotations.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "compose/loader.hpp"
#include "config/config.hpp"
#include "reconcile/desired.hpp"
#include "util/log.hpp"

namespace podcd::cli {

namespace {

namespace fs = std::filesystem;

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

// The configuration; with `repo` (check-config --repo DIR, a CI job's checkout) that work
// tree, and no webhook secret needed: nothing is served.
std::shared_ptr<const config::Config> LoadCheckedConfig(const GlobalOptions& g, const std::string& repo) {
  config::LoadOptions opts;
  opts.file = g.config_file;
  if (!repo.empty()) {
    opts.require_webhook_secret = false;
    const std::string path = fs::absolute(repo).lexically_normal().string();
    opts.env = [base = opts.env, path](std::string_view name) -> std::optional<std::string> {
      if (name == "PODCD_REPO_PATH") return path;
      return base(name);
    };
  }
  auto cfg = config::Load(opts);
  if (!cfg) {
    for (const auto& e : cfg.error()) std::fprintf(stderr, "%s\n", e.What().c_str());
    std::fprintf(stderr, "podcd: configuration has %zu error%s\n", cfg.error().size(),
                 cfg.error().size() == 1 ? "" : "s");
    return nullptr;
  }
  ApplyLogOptions(g, *cfg);
  log::Configure(cfg->log.format, cfg->log.level);
  return std::make_shared<const config::Config>(std::move(*cfg));
}

// --format F and --repo DIR (also --format=F, --repo=DIR).
int ParseArgs(const Args& args, std::string& format, std::string& repo) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--format" || a == "--repo") && i + 1 < args.size()) {
      (a == "--format" ? format : repo) = args[++i];
    } else if (a.starts_with("--format=")) {
      format = a.substr(9);
    } else if (a.starts_with("--repo=")) {
      repo = a.substr(7);
    } else {
      std::fprintf(stderr, "podcd check-config: unexpected argument \"%s\"\n", a.c_str());
      return kExitUsage;
    }
  }
  if (format != "text" && format != "github" && format != "gitlab") {
    std::fprintf(stderr, "podcd check-config: --format: expected text, github or gitlab, got \"%s\"\n",
                 format.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

// A stack's problems: printed at once as text, or kept for the forge's format.
void Collect(const config::Config& cfg, const core::DesiredStack& st, const std::string& format,
             std::vector<Problem>& problems) {
  const bool refused = st.status != core::StackStatus::kInvalid;
  const fs::path root = cfg.repo.path;
  std::error_code ec;
  for (const auto& text : st.problems) {
    const std::string p = log::Masked(text);  // values read from the secrets directory
    if (format == "text") {
      std::fprintf(stderr, "stack %s %s: %s\n", st.name.c_str(), refused ? "refused" : "invalid", p.c_str());
      continue;
    }
    // A problem without a place (the policy's) is the stack's compose file's.
    fs::path place = fs::path(cfg.repo.services_dir) / st.name;
    for (auto name : compose::kComposeFileNames) {
      if (fs::exists(root / place / name, ec)) {
        place /= name;
        break;
      }
    }
    problems.push_back(ParseProblem(st.name, p, root, place.generic_string(), refused));
  }
}

}  // namespace

int CheckConfig(const GlobalOptions& g, const Args& args) {
  if (args.size() == 1 && args.front() == "--keys") return PrintKeys();
  std::string format = "text";
  std::string repo;
  if (int rc = ParseArgs(args, format, repo); rc != kExitOk) return rc;
  // GitLab reads stdout as the report: everything else goes to stderr.
  FILE* info = format == "gitlab" ? stderr : stdout;
  auto cfg = LoadCheckedConfig(g, repo);
  if (!cfg) return kExitFailure;
  std::fprintf(info, "%s\n", config::Summary(*cfg).c_str());
  if (!cfg->auth.users_file.empty()) {
    auto users = auth::LoadUsers(cfg->auth.users_file);
    if (!users) {
      std::fprintf(stderr, "%s\n", users.error().What().c_str());
      return kExitFailure;
    }
    for (const auto& warning : users->warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    std::fprintf(info, "users: %zu in %s\n", users->users.size(), cfg->auth.users_file.c_str());
  }
  // The stacks too, when the work tree is there (a clone appears only at the first sync; a
  // repository named with --repo must have them).
  const fs::path root = cfg->repo.path;
  std::error_code ec;
  if (!fs::is_directory(root / cfg->repo.services_dir, ec)) {
    std::fprintf(repo.empty() ? info : stderr, "stacks: not checked, %s/%s does not exist%s\n",
                 cfg->repo.path.c_str(), cfg->repo.services_dir.c_str(), repo.empty() ? " yet" : "");
    return repo.empty() ? kExitOk : kExitFailure;
  }
  // Offline: no Podman is asked, so a service's `runtime` is checked against the built-in list
  // (the daemon asks the host's Podman when policy.allowed_runtimes is not set).
  if (cfg->policy.allowed_runtimes.empty()) {
    const auto runtimes = reconcile::AllowedRuntimesOf(*cfg, {})();
    std::string names;
    for (const auto& r : runtimes.names) names += (names.empty() ? "" : ", ") + r;
    std::fprintf(info, "runtimes: %s (from %s; the daemon asks the host's Podman)\n", names.c_str(),
                 runtimes.source.c_str());
  }
  auto desired = reconcile::LoadDesired(*cfg);
  if (!desired) {
    std::fprintf(stderr, "%s\n", desired.error().What().c_str());
    return kExitFailure;
  }
  int bad = 0;
  std::vector<Problem> problems;
  for (const auto& st : desired->stacks) {
    if (st.status == core::StackStatus::kOk) continue;
    ++bad;
    Collect(*cfg, st, format, problems);
  }
  if (format == "github") {
    for (const auto& p : problems) std::printf("%s\n", GithubAnnotation(p).c_str());
  } else if (format == "gitlab") {
    std::fputs(GitlabReport(problems).c_str(), stdout);
  }
  std::fprintf(info, "stacks: %zu valid, %d with errors\n", desired->stacks.size() - static_cast<size_t>(bad),
               bad);
  return bad == 0 ? kExitOk : kExitFailure;
}

}  // namespace podcd::cli
