// `podcd sync [--wait]`: fetch the repository and plan every stack, deploying nothing; the
// deployment record lists what a deploy of every changed stack would do to each stack. In-process
// when no daemon holds the state directory (it then always waits); otherwise through the
// daemon's API (POST /actions/sync).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/run_trigger.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd sync [--wait] [--server URL] [--token-file F]\n"
    "  --wait          wait for the plan and print it (a daemon otherwise answers with the id)\n"
    "  --server URL    the daemon to ask when one holds the state directory\n"
    "                  (default http://127.0.0.1:<listen port>)\n"
    "  --token-file F  file holding the API token (default $PODCD_TOKEN, else api.token)\n";

}  // namespace

int Sync(const GlobalOptions& g, const Args& args) {
  state::Trigger t;
  t.kind = state::TriggerKind::kSync;
  DaemonRequest daemon{"/actions/sync", "", false, "", ""};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--wait") {
      daemon.wait = true;
    } else if ((a == "--server" || a == "--token-file") && i + 1 < args.size()) {
      (a == "--server" ? daemon.server : daemon.token_file) = args[++i];
    } else {
      std::fprintf(stderr, "podcd sync: unknown argument \"%s\"\n%s", a.c_str(), kUsage);
      return kExitUsage;
    }
  }
  return RunTrigger("sync", g, std::move(t), daemon);
}

}  // namespace podcd::cli
