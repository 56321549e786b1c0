// Helpers shared by subcommands: loading the configuration with the global options applied.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "config/config.hpp"

namespace podcd::cli {

// Loads the configuration, applies --log-format/--log-level over it, configures logging.
// On failure prints every error to stderr and returns nullopt.
std::optional<std::shared_ptr<const config::Config>> LoadConfig(const GlobalOptions& g);

// The options of `g` as command-line arguments (--config, --log-format, --log-level), for a
// podcd process this one starts.
std::vector<std::string> GlobalArgs(const GlobalOptions& g);

// --log-format/--log-level over what the configuration says.
void ApplyLogOptions(const GlobalOptions& g, config::Config& cfg);

// For a subcommand that a later issue builds: says so and returns kExitUsage.
// The value of the option at args[i] (which is `flag`, or `flag=VALUE`): into `dest`, with `i`
// moved past a separate value; false when the value is missing.
bool TakeValue(const Args& args, std::size_t& i, std::string_view flag, std::string& dest);

int NotBuilt(std::string_view command, std::string_view issue);

}  // namespace podcd::cli
