#include <cstdio>
#include <exception>
#include <iostream>
#include <string_view>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "util/log.hpp"

#ifndef PODCD_VERSION
#define PODCD_VERSION "0.0.0"
#endif

namespace podcd::cli {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const GlobalOptions&, const Args&);
  bool hidden = false;  // internal subcommands, run by podcd itself
};

constexpr Command kCommands[] = {
    {"serve", "run the daemon: webhook server, work queue, reconciler", Serve},
    {"plan", "sync the repo and show what a reconcile would do (exit 3 if anything)", Plan},
    {"deploy", "reconcile now: --all-changed, or the named stacks (--pull for newest images)", Deploy},
    {"status", "show deployments and stacks from a running daemon", Status},
    {"sign", "print the X-Hub-Signature-256 value for a body (FILE or -)", Sign},
    {"health", "exit 0 when a running daemon's /health answers (the image's HEALTHCHECK)", Health},
    {"check-config", "validate the configuration (and the repo's stacks) without running", CheckConfig},
    {"__sync", "sync the repository once and print one JSON line (run by the daemon)", InternalSync, true},
    {"__self-update", "replace podcd's own container (run by podcd in an updater container)",
     InternalSelfUpdate, true},
};

void PrintHelp(std::FILE* out) {
  std::fprintf(out,
               "podcd %s: GitOps reconciler for compose stacks on Podman\n\n"
               "usage: podcd [--config FILE] [--log-format text|json] [--log-level LEVEL] COMMAND [ARGS]\n"
               "       podcd --help | --version\n\ncommands:\n",
               PODCD_VERSION);
  for (const auto& c : kCommands) {
    if (c.hidden) continue;
    std::fprintf(out, "  %-13s %.*s\n", std::string(c.name).c_str(), static_cast<int>(c.summary.size()),
                 c.summary.data());
  }
  std::fprintf(out,
               "\nconfiguration: --config FILE, else $PODCD_CONFIG, else /etc/podcd/podcd.yml if it exists;\n"
               "then PODCD_* environment variables (see docs/configuration.md).\n");
}

}  // namespace

int Main(int argc, char** argv) {
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
      PrintHelp(stdout);
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
      for (const auto& c : kCommands) {
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
    PrintHelp(stderr);
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

}  // namespace podcd::cli
