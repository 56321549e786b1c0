// `podcd deploy [--all-changed | STACK...] [--pull] [--force-recreate]`: reconcile now.
// In-process when no daemon holds the state directory; otherwise through the daemon's admin
// API (POST /deploy?wait=).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/run_trigger.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd deploy [--all-changed | [--force-recreate] STACK...] [--pull | --pull-uploaded]\n"
    "                    [--server URL] [--token-file F]\n"
    "  --all-changed     every stack whose fingerprint changed (the default without STACK)\n"
    "  --pull            pull the newest images and recreate services whose image changed\n"
    "  --pull-uploaded   --pull, over images uploaded with POST /upload too (docs/upload.md)\n"
    "  --force-recreate  recreate every service of the named stacks, changed or not (each\n"
    "                    through the health gate, rolled back when it fails)\n"
    "  --server URL      the daemon to ask when one holds the state directory\n"
    "                    (default http://127.0.0.1:<listen port>)\n"
    "  --token-file F    file holding the API token (default $PODCD_TOKEN, else api.token)\n";

std::string RequestJson(const state::Trigger& t) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("stacks");
  w.StartArray();
  for (const auto& stack : t.stacks) json::Text(w, stack);
  w.EndArray();
  w.Key("all_changed");
  w.Bool(t.all_changed);
  w.Key("pull");
  w.Bool(t.pull);
  if (t.force) {  // an older daemon refuses the field: it is sent only when asked for
    w.Key("force");
    w.Bool(true);
  }
  if (t.pull_uploaded) {
    w.Key("pull_uploaded");
    w.Bool(true);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

int Deploy(const GlobalOptions& g, const Args& args) {
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  DaemonRequest daemon{"/deploy", "", true, "", ""};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--all-changed")
      t.all_changed = true;
    else if (a == "--pull")
      t.pull = true;
    else if (a == "--pull-uploaded")
      t.pull = t.pull_uploaded = true;
    else if (a == "--force-recreate")
      t.force = true;
    else if ((a == "--server" || a == "--token-file") && i + 1 < args.size())
      (a == "--server" ? daemon.server : daemon.token_file) = args[++i];
    else if (a.starts_with("-")) {
      std::fprintf(stderr, "podcd deploy: unknown option \"%s\"\n%s", a.c_str(), kUsage);
      return kExitUsage;
    } else if (!IsValidStackName(a)) {
      std::fprintf(stderr, "podcd deploy: \"%s\" is not a valid stack name\n", a.c_str());
      return kExitUsage;
    } else {
      t.stacks.push_back(a);
    }
  }
  if (t.all_changed && !t.stacks.empty()) {
    std::fprintf(stderr, "podcd deploy: give --all-changed or stack names, not both\n%s", kUsage);
    return kExitUsage;
  }
  if (t.force && t.stacks.empty()) {
    std::fprintf(stderr, "podcd deploy: --force-recreate needs the stacks to recreate\n%s", kUsage);
    return kExitUsage;
  }
  if (t.stacks.empty()) t.all_changed = true;
  daemon.body = RequestJson(t);
  return RunTrigger("deploy", g, std::move(t), daemon);
}

}  // namespace podcd::cli
