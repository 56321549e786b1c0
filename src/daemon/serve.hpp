// podcd-serve: the daemon's entry point (`podcd serve` execs it).
#pragma once

#include "cli/commands.hpp"

namespace podcd::daemon {

int Serve(const cli::GlobalOptions& g, const cli::Args& args);

}  // namespace podcd::daemon
