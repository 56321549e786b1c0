// podcd-serve: the daemon's entry point (`podcd serve` execs it).
#pragma once

#include <memory>

#include "cli/commands.hpp"
#include "reconcile/queue.hpp"

namespace podcd::daemon {

int Serve(const cli::GlobalOptions& g, const cli::Args& args);

// Serve with `test_executor` in place of the workers (when not null): runs are recorded, the
// stacks are the repository's directories, health is the state directory's, and nothing is
// synced or deployed. Only podcd-serve-test, built with the tests, passes one
// (tests/integration/http/serve_test_main.cpp); the released podcd-serve never does.
int ServeWithTestExecutor(const cli::GlobalOptions& g, const cli::Args& args,
                          std::unique_ptr<reconcile::Executor> test_executor);

}  // namespace podcd::daemon
