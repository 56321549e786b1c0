// The subcommands of the podcd binary. Each lives in its own file under src/cli/.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::cli {

// Options every subcommand understands; they come before or after the subcommand name.
struct GlobalOptions {
  std::string config_file;  // --config FILE (else PODCD_CONFIG, else /etc/podcd/podcd.yml)
  std::string log_format;   // --log-format text|json (overrides the config)
  std::string log_level;    // --log-level debug|info|warn|error
};

using Args = std::vector<std::string>;

// Exit codes shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;    // bad arguments, or a subcommand that is not built yet
inline constexpr int kExitChanges = 3;  // `plan`: there is something to do

int CheckConfig(const GlobalOptions& g, const Args& args);
int Serve(const GlobalOptions& g, const Args& args);
int Plan(const GlobalOptions& g, const Args& args);
int Deploy(const GlobalOptions& g, const Args& args);
int Upload(const GlobalOptions& g, const Args& args);
int Sync(const GlobalOptions& g, const Args& args);
int Status(const GlobalOptions& g, const Args& args);
int Sign(const GlobalOptions& g, const Args& args);
int Health(const GlobalOptions& g, const Args& args);
int Passwd(const GlobalOptions& g, const Args& args);
int Token(const GlobalOptions& g, const Args& args);
int Suspend(const GlobalOptions& g, const Args& args);
int Resume(const GlobalOptions& g, const Args& args);
int Pin(const GlobalOptions& g, const Args& args);
int Unpin(const GlobalOptions& g, const Args& args);
// The jobs of podcd's internal processes (__run, __stacks, __close-handover, __sync,
// __self-update) are in worker/jobs.hpp.

// Entry point used by main(): parses global options and dispatches.
int Main(int argc, char** argv);

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const GlobalOptions&, const Args&);
  bool hidden = false;  // internal subcommands, run by podcd itself
};
// Parses the global options, finds the command in `commands` and runs it (--help lists them).
int Dispatch(int argc, char** argv, std::span<const Command> commands);

}  // namespace podcd::cli
