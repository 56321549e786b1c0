#include "cli/common.hpp"

#include <cstdio>

#include "util/log.hpp"

namespace podcd::cli {

std::optional<std::shared_ptr<const config::Config>> LoadConfig(const GlobalOptions& g) {
  config::LoadOptions opts;
  opts.file = g.config_file;
  auto cfg = config::Load(opts);
  if (!cfg) {
    for (const auto& e : cfg.error()) std::fprintf(stderr, "%s\n", e.What().c_str());
    std::fprintf(stderr, "podcd: configuration has %zu error%s\n", cfg.error().size(),
                 cfg.error().size() == 1 ? "" : "s");
    return std::nullopt;
  }
  ApplyLogOptions(g, *cfg);
  log::Configure(cfg->log.format, cfg->log.level);
  return std::make_shared<const config::Config>(std::move(*cfg));
}

void ApplyLogOptions(const GlobalOptions& g, config::Config& cfg) {
  if (!g.log_format.empty()) log::ParseFormat(g.log_format, cfg.log.format);
  if (!g.log_level.empty()) log::ParseLevel(g.log_level, cfg.log.level);
}

int NotBuilt(std::string_view command, std::string_view issue) {
  std::fprintf(stderr, "podcd %.*s: not built yet (arrives with issue %.*s); nothing was done\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(issue.size()),
               issue.data());
  return kExitUsage;
}

}  // namespace podcd::cli
