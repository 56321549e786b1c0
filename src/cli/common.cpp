#include "cli/common.hpp"

#include <cstdio>
#include <string>

#ifndef PODCD_VERSION
#define PODCD_VERSION "0.0.0"
#endif

#include "util/log.hpp"

namespace podcd::cli {
namespace {

void PrintHelp(std::FILE* out, std::span<const Command> commands) {
  std::fprintf(out,
               "podcd %s: GitOps reconciler for compose stacks on Podman\n\n"
               "usage: podcd [--config FILE] [--log-format text|json] [--log-level LEVEL] COMMAND [ARGS]\n"
               "       podcd --help | --version\n\ncommands:\n",
               PODCD_VERSION);
  for (const auto& c : commands) {
    if (c.hidden) continue;
    std::fprintf(out, "  %-13s %.*s\n", std::string(c.name).c_str(), static_cast<int>(c.summary.size()),
                 c.summary.data());
  }
  std::fprintf(out,
               "\nconfiguration: --config FILE, else $PODCD_CONFIG, else /etc/podcd/podcd.yml if it exists;\n"
               "then PODCD_* environment variables (see docs/configuration.md).\n");
}

}  // namespace

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

std::vector<std::string> GlobalArgs(const GlobalOptions& g) {
  std::vector<std::string> out;
  if (!g.config_file.empty()) out.insert(out.end(), {"--config", g.config_file});
  if (!g.log_format.empty()) out.insert(out.end(), {"--log-format", g.log_format});
  if (!g.log_level.empty()) out.insert(out.end(), {"--log-level", g.log_level});
  return out;
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

int Dispatch(int argc, char** argv, std::span<const Command> commands) {
  GlobalOptions g;
  Args rest;
  const Command* cmd = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string& out) -> bool {
      if (auto eq = a.find('='); eq != std::string_view::npos) {
        out = std::string(a.substr(eq + 1));
        return true;
      }
      if (i + 1 >= argc) {
        std::fprintf(stderr, "podcd: %s needs a value\n", argv[i]);
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      PrintHelp(stdout, commands);
      return kExitOk;
    }
    if (a == "--version") {
      std::printf("podcd %s\n", PODCD_VERSION);
      return kExitOk;
    }
    if (a == "--config" || a.starts_with("--config=")) {
      if (!value(g.config_file)) return kExitUsage;
    } else if (a == "--log-format" || a.starts_with("--log-format=")) {
      if (!value(g.log_format)) return kExitUsage;
    } else if (a == "--log-level" || a.starts_with("--log-level=")) {
      if (!value(g.log_level)) return kExitUsage;
    } else if (cmd == nullptr && !a.starts_with("-")) {
      for (const auto& c : commands) {
        if (c.name == a) cmd = &c;
      }
      if (cmd == nullptr) {
        std::fprintf(stderr, "podcd: unknown command \"%s\" (see podcd --help)\n", argv[i]);
        return kExitUsage;
      }
    } else {
      rest.emplace_back(a);
    }
  }
  if (cmd == nullptr) {
    PrintHelp(stderr, commands);
    return kExitUsage;
  }
  log::Format fmt = log::Format::kText;
  log::Level lvl = log::Level::kInfo;
  if (!g.log_format.empty() && !log::ParseFormat(g.log_format, fmt)) {
    std::fprintf(stderr, "podcd: --log-format: expected text or json, got \"%s\"\n", g.log_format.c_str());
    return kExitUsage;
  }
  if (!g.log_level.empty() && !log::ParseLevel(g.log_level, lvl)) {
    std::fprintf(stderr, "podcd: --log-level: expected debug, info, warn or error, got \"%s\"\n",
                 g.log_level.c_str());
    return kExitUsage;
  }
  log::Configure(fmt, lvl);
  return cmd->run(g, rest);
}

bool TakeValue(const Args& args, std::size_t& i, std::string_view flag, std::string& dest) {
  const std::string& a = args[i];
  if (a.size() > flag.size() && a[flag.size()] == '=') {
    dest = a.substr(flag.size() + 1);
    return true;
  }
  if (i + 1 >= args.size()) return false;
  dest = args[++i];
  return true;
}

}  // namespace podcd::cli
