// The job entry points of podcd's internal processes, dispatched by src/cli by their `__` names:
// each started by podcd reads one JSON request on stdin and answers on stdout
// (worker/protocol.hpp, and worker/sync.hpp for __sync).
#pragma once

#include "cli/commands.hpp"

namespace podcd::worker {

// `podcd __run`: one deployment for the daemon (events on stdout as they happen).
int RunDeployment(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __stacks`: the stacks as the repository and Podman show them, for GET /stacks.
int RunStacks(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __load-image`: an uploaded archive checked and loaded (worker/load_image.hpp).
int RunLoadImage(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __remote-head`: whether the remote's branch is ahead of the work tree (no fetch), as
// gauges the daemon records (worker/remote_check.hpp).
int RunRemoteHead(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __close-handover`: closes a self-update that was pending when the daemon started.
int RunCloseHandOver(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __sync`: one repository sync; prints exactly one JSON line (FormatSyncLine).
int RunSync(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __notify`: sends the daemon's notices and commit statuses (notify/wire.hpp).
int RunNotify(const cli::GlobalOptions& g, const cli::Args& args);
// `podcd __self-update --deployment ID`: the updater container's work (reconcile/self_update.hpp);
// Podman runs it from podcd's new image, so its configuration is the file's, not a request.
int RunSelfUpdate(const cli::GlobalOptions& g, const cli::Args& args);

}  // namespace podcd::worker
