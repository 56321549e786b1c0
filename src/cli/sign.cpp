// `podcd sign`: not built yet; issue 3 replaces this file.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Sign(const GlobalOptions&, const Args&) { return NotBuilt("sign", "3"); }

}  // namespace podcd::cli
