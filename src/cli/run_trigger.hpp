// What `podcd deploy` and `podcd sync` share: a trigger runs in this process when no daemon
// holds the state directory (its record's actor is "cli"), else the daemon's API is asked.
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "state/deployment.hpp"

namespace podcd::cli {

struct DaemonRequest {
  std::string path;        // e.g. "/deploy", "/actions/sync"
  std::string body;        // JSON, or "" for none
  bool wait = true;        // ?wait=3600 and print the finished record, else print the queued id
  std::string server;      // --server URL ("" = http://127.0.0.1:<listen.port>)
  std::string token_file;  // --token-file FILE ("" = $PODCD_TOKEN, $PODCD_API_TOKEN, api.token)
};

// Prints the record's outcome per stack; kExitOk when it succeeded.
int PrintOutcome(const state::Deployment& d);

// Runs `t` (in-process, waiting for it) or sends `daemon` to the daemon that holds the state
// directory. `command` names the subcommand in messages ("deploy", "sync").
int RunTrigger(const char* command, const GlobalOptions& g, state::Trigger t, const DaemonRequest& daemon);

}  // namespace podcd::cli
