// `podcd deploy`: not built yet; issue 5 replaces this file.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Deploy(const GlobalOptions&, const Args&) { return NotBuilt("deploy", "5"); }

}  // namespace podcd::cli
