// `podcd __sync`: the repository sync as a child process of the daemon (see git/sync.hpp).
// Prints exactly one JSON line on stdout; logs go to stderr.
#include <cstdio>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "git/repo.hpp"
#include "git/sync.hpp"
#include "util/log.hpp"

namespace podcd::cli {

int InternalSync(const GlobalOptions& g, const Args& args) {
  if (!args.empty()) {
    std::printf("%s\n",
                git::FormatSyncLine(Fail(ErrorCode::kInvalidArgument, "__sync takes no arguments")).c_str());
    return kExitUsage;
  }
  // The parent passes every setting in the environment; the default configuration file is
  // not read (only --config or PODCD_CONFIG, for a run by hand).
  config::LoadOptions opts;
  opts.file = g.config_file;
  opts.default_file.clear();
  auto cfg = config::Load(opts);
  if (!cfg) {
    std::string all;
    for (const auto& e : cfg.error()) all += (all.empty() ? "" : "; ") + e.What();
    std::printf("%s\n",
                git::FormatSyncLine(Fail(ErrorCode::kInvalidArgument, "configuration: " + all)).c_str());
    return kExitFailure;
  }
  if (!g.log_format.empty()) log::ParseFormat(g.log_format, cfg->log.format);
  if (!g.log_level.empty()) log::ParseLevel(g.log_level, cfg->log.level);
  log::Configure(cfg->log.format, cfg->log.level);
  auto result = git::SyncRepo(cfg->repo, cfg->state_dir);
  std::printf("%s\n", git::FormatSyncLine(result).c_str());
  std::fflush(stdout);
  return result ? kExitOk : kExitFailure;
}

}  // namespace podcd::cli
