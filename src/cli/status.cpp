// `podcd status`: not built yet; issue 3 replaces this file.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Status(const GlobalOptions&, const Args&) { return NotBuilt("status", "3"); }

}  // namespace podcd::cli
