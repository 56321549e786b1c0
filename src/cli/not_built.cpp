// Subcommands whose engines arrive in later issues. Each says so and exits 2.
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Serve(const GlobalOptions&, const Args&) { return NotBuilt("serve", "3"); }
int Plan(const GlobalOptions&, const Args&) { return NotBuilt("plan", "4"); }
int Deploy(const GlobalOptions&, const Args&) { return NotBuilt("deploy", "5"); }
int Status(const GlobalOptions&, const Args&) { return NotBuilt("status", "3"); }
int Sign(const GlobalOptions&, const Args&) { return NotBuilt("sign", "3"); }

}  // namespace podcd::cli
