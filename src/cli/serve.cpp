// `podcd serve`: not built yet; issue 3 replaces this file.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Serve(const GlobalOptions&, const Args&) { return NotBuilt("serve", "3"); }

}  // namespace podcd::cli
