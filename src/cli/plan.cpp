// `podcd plan`: not built yet; issue 4 replaces this file.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Plan(const GlobalOptions&, const Args&) { return NotBuilt("plan", "4"); }

}  // namespace podcd::cli
