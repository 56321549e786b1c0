// podcd-serve: the daemon alone (webhook server, queue, history), small because it links
// neither libcurl nor libgit2; deployments run in `podcd __run` workers. Same options as
// `podcd serve`.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "daemon/serve.hpp"

namespace {
constexpr podcd::cli::Command kCommands[] = {
    {"serve", "run the daemon: webhook server, work queue, reconciler", podcd::daemon::Serve},
};
}  // namespace

int main(int argc, char** argv) {
  try {
    return podcd::cli::Dispatch(argc, argv, kCommands);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "podcd-serve: fatal: %s\n", e.what());
    return 1;
  }
}
