#include <cstdio>
#include <exception>
#include <iostream>
#include <string_view>

#include "cli/commands.hpp"
#include "worker/jobs.hpp"

namespace podcd::cli {
namespace {

constexpr Command kCommands[] = {
    {"serve", "run the daemon: webhook server, work queue, reconciler", Serve},
    {"plan", "sync the repo and show what a reconcile would do (exit 3 if anything)", Plan},
    {"deploy", "reconcile now: --all-changed, or the named stacks (--pull for newest images)", Deploy},
    {"sync", "fetch the repo and plan every stack, deploying nothing (the record shows the plan)", Sync},
    {"status", "show deployments and stacks from a running daemon", Status},
    {"suspend", "suspend a stack: every reconcile leaves it alone until resumed (--note TEXT)", Suspend},
    {"resume", "resume a suspended stack", Resume},
    {"pin", "pin a stack to an earlier successful deployment (STACK DEPLOYMENT): a rollback that stays", Pin},
    {"unpin", "unpin a stack: deployed from the branch head again", Unpin},
    {"upload", "upload an image archive for a stack and deploy it (STACK FILE [--wait])", Upload},
    {"sign", "print the X-Hub-Signature-256 value for a body (FILE or -)", Sign},
    {"health", "exit 0 when a running daemon's /health answers (the image's HEALTHCHECK)", Health},
    {"passwd", "read a password on stdin, print its Argon2id hash (--user NAME: a users-file line)", Passwd},
    {"token", "per-user API tokens: create --user NAME --scope read|deploy|admin, list, revoke ID", Token},
    {"check-config", "validate the configuration (and the repo's stacks) without running", CheckConfig},
    {"__sync", "sync the repository once and print one JSON line (run by the daemon)", worker::RunSync, true},
    {"__run", "run one deployment for the daemon (request on stdin, events on stdout)", worker::RunDeployment,
     true},
    {"__load-image", "check and load an uploaded image archive for the daemon (POST /upload)",
     worker::RunLoadImage, true},
    {"__stacks", "observe the stacks for the daemon's GET /stacks", worker::RunStacks, true},
    {"__close-handover", "close a pending self-update for the daemon", worker::RunCloseHandOver, true},
    {"__remote-head", "ask the remote whether it is ahead of the work tree (run by the daemon)",
     worker::RunRemoteHead, true},
    {"__notify", "send notices and commit statuses for the daemon (requests on stdin)", worker::RunNotify,
     true},
    {"__self-update", "replace podcd's own container (run by podcd in an updater container)",
     worker::RunSelfUpdate, true},
};

}  // namespace

int Main(int argc, char** argv) { return Dispatch(argc, argv, kCommands); }

}  // namespace podcd::cli
