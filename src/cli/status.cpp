// `podcd status [--server URL] [--token-file F] [--json] [DEPLOYMENT_ID]`: reads a daemon's API.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd status [--server URL] [--token-file F] [--json] [DEPLOYMENT_ID]\n"
    "  --server URL      the daemon (default $PODCD_SERVER, else http://127.0.0.1:8080)\n"
    "  --token-file F    file holding the API token (default $PODCD_TOKEN, else $PODCD_API_TOKEN)\n"
    "  --json            print the API's JSON instead of tables\n";

using Response = ApiResponse;

Expected<Response> Get(const std::string& url, const std::string& token) {
  return ApiCall("GET", url, token);
}

std::string S(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::int64_t I(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

std::string Or(const std::string& s, const char* dflt = "-") { return s.empty() ? dflt : s; }

std::string Stacks(const rapidjson::Value& trigger) {
  if (trigger.IsObject() && trigger.HasMember("all_changed") && trigger["all_changed"].IsBool() &&
      trigger["all_changed"].GetBool()) {
    return "all changed";
  }
  std::string out;
  if (trigger.IsObject() && trigger.HasMember("stacks") && trigger["stacks"].IsArray()) {
    for (const auto& s : trigger["stacks"].GetArray()) {
      if (!s.IsString()) continue;
      if (!out.empty()) out += ",";
      out += s.GetString();
    }
  }
  return Or(out);
}

std::string Duration(const rapidjson::Value& d) {
  auto start = I(d, "started_at_ms");
  auto end = I(d, "finished_at_ms");
  if (start == 0 || end < start) return "-";
  return FormatDuration(std::chrono::milliseconds(end - start));
}

std::string Pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

void PrintDeployment(const rapidjson::Value& d) {
  std::printf("deployment  %s\n", S(d, "id").c_str());
  std::printf("state       %s%s\n", S(d, "state").c_str(),
              S(d, "reason").empty() ? "" : (" (" + S(d, "reason") + ")").c_str());
  const auto& t = d.HasMember("trigger") ? d["trigger"] : d;
  std::printf("trigger     %s, stacks %s%s\n", S(t, "kind").c_str(), Stacks(t).c_str(),
              S(t, "event").empty() ? "" : (", event " + S(t, "event")).c_str());
  if (t.IsObject() && t.HasMember("force") && t["force"].IsBool() && t["force"].GetBool())
    std::printf("force       recreate every service of the named stacks\n");
  if (!S(t, "actor").empty()) std::printf("actor       %s\n", S(t, "actor").c_str());
  if (!S(t, "delivery_id").empty()) std::printf("delivery    %s\n", S(t, "delivery_id").c_str());
  if (I(d, "coalesced") > 0)
    std::printf("coalesced   %lld further triggers\n", static_cast<long long>(I(d, "coalesced")));
  std::printf("commit      %s\n", Or(S(d, "commit")).c_str());
  std::printf("queued      %s\n", Or(S(d, "queued_at")).c_str());
  std::printf("started     %s\n", Or(S(d, "started_at")).c_str());
  std::printf("finished    %s (took %s)\n", Or(S(d, "finished_at")).c_str(), Duration(d).c_str());
  if (d.HasMember("stacks") && d["stacks"].IsArray() && !d["stacks"].Empty()) {
    std::printf("\n%-24s %-14s %-10s %s\n", "STACK", "OUTCOME", "DURATION", "REASON");
    for (const auto& s : d["stacks"].GetArray()) {
      std::printf("%-24s %-14s %-10s %s\n", S(s, "name").c_str(), Or(S(s, "outcome")).c_str(),
                  FormatDuration(std::chrono::milliseconds(I(s, "duration_ms"))).c_str(),
                  S(s, "reason").c_str());
    }
  }
  if (d.HasMember("log") && d["log"].IsArray() && !d["log"].Empty()) {
    std::printf("\nlog:\n");
    for (const auto& l : d["log"].GetArray()) {
      if (l.IsString()) std::printf("  %s\n", l.GetString());
    }
  }
}

struct StatusArgs {
  std::string server;
  std::string token_file;
  std::string id;
  bool json = false;
};

// The arguments; none (the usage said on stderr) when they are wrong.
std::optional<StatusArgs> ParseArgs(const Args& args) {
  StatusArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& dest, std::string_view flag) { return TakeValue(args, i, flag, dest); };
    if (a == "--json") {
      out.json = true;
    } else if (a == "--server" || a.starts_with("--server=")) {
      if (!value(out.server, "--server")) return std::fprintf(stderr, "%s", kUsage), std::nullopt;
    } else if (a == "--token-file" || a.starts_with("--token-file=")) {
      if (!value(out.token_file, "--token-file")) return std::fprintf(stderr, "%s", kUsage), std::nullopt;
    } else if (a.starts_with("-") || !out.id.empty()) {
      std::fprintf(stderr, "podcd status: unexpected argument \"%s\"\n%s", a.c_str(), kUsage);
      return std::nullopt;
    } else {
      out.id = a;
    }
  }
  return out;
}

// GET `path` into `doc`; false (said on stderr) unless the daemon answered 200 with JSON.
bool Fetch(const std::string& server, const std::string& token, const std::string& path,
           rapidjson::Document& doc) {
  auto r = Get(server + path, token);
  if (!r) {
    std::fprintf(stderr, "podcd status: cannot reach %s: %s\n", server.c_str(), r.error().message.c_str());
    return false;
  }
  doc.Parse(r->body.data(), r->body.size());
  if (r->status != 200) {
    std::string msg = doc.HasParseError() ? r->body.substr(0, 200) : S(doc, "error");
    std::fprintf(stderr, "podcd status: %s%s answered %ld: %s\n", server.c_str(), path.c_str(), r->status,
                 msg.c_str());
    return false;
  }
  if (doc.HasParseError()) {
    std::fprintf(stderr, "podcd status: %s%s answered malformed JSON\n", server.c_str(), path.c_str());
    return false;
  }
  return true;
}

int ShowDeployment(const std::string& server, const std::string& token, const std::string& id, bool json) {
  rapidjson::Document d;
  if (!Fetch(server, token, "/deployments/" + id, d)) return kExitFailure;
  if (json) {
    std::printf("%s\n", Pretty(d).c_str());
  } else {
    PrintDeployment(d);
  }
  return kExitOk;
}

// A member of an answer, or null when the answer is no object or lacks it (operator[] asserts).
const rapidjson::Value& Member(const rapidjson::Value& v, const char* key) {
  static const rapidjson::Value kNull;
  if (!v.IsObject()) return kNull;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? kNull : it->value;
}

// Suspended and pinned stacks, each on a line of its own after the table: nobody should miss
// that a stack is held back.
void PrintControls(const rapidjson::Value& stacks) {
  for (const auto& s : stacks.GetArray()) {
    const auto& sus = Member(s, "suspended");
    if (sus.IsObject()) {
      std::printf("!! %s is SUSPENDED by %s at %s%s: every reconcile leaves it alone (podcd resume %s)\n",
                  S(s, "name").c_str(), Or(S(sus, "by")).c_str(), Or(S(sus, "at")).c_str(),
                  S(sus, "note").empty() ? "" : (" (note: " + S(sus, "note") + ")").c_str(),
                  S(s, "name").c_str());
    }
    const auto& pin = Member(s, "pinned");
    if (pin.IsObject()) {
      std::printf(
          "!! %s is PINNED to deployment %s (commit %s) by %s at %s: new commits do not move it "
          "(podcd unpin %s)\n",
          S(s, "name").c_str(), S(pin, "deployment").c_str(), S(pin, "commit").substr(0, 12).c_str(),
          Or(S(pin, "by")).c_str(), Or(S(pin, "at")).c_str(), S(s, "name").c_str());
    }
  }
}

void PrintStacks(const rapidjson::Document& stacks, bool stacks_ok) {
  std::printf("%-24s %-10s %-14s %-14s %s\n", "STACK", "STATE", "COMMIT", "FINGERPRINT", "LAST DEPLOYMENT");
  if (!stacks_ok) std::printf("(the daemon cannot observe the stacks now)\n");
  if (stacks_ok && stacks.HasMember("stacks") && stacks["stacks"].IsArray()) {
    for (const auto& s : stacks["stacks"].GetArray()) {
      std::printf("%-24s %-10s %-14s %-14s %s\n", S(s, "name").c_str(), Or(S(s, "state")).c_str(),
                  Or(S(s, "commit").substr(0, 12)).c_str(), Or(S(s, "fingerprint").substr(0, 12)).c_str(),
                  Or(S(s, "last_deployment")).c_str());
    }
    PrintControls(stacks["stacks"]);
  }
}

void PrintDeployments(const rapidjson::Document& deployments) {
  std::printf("\n%-24s %-10s %-20s %-20s %-10s %s\n", "DEPLOYMENT", "STATE", "KIND", "STACKS", "DURATION",
              "QUEUED");
  if (deployments.HasMember("deployments") && deployments["deployments"].IsArray()) {
    for (const auto& d : deployments["deployments"].GetArray()) {
      const auto& t = d.HasMember("trigger") ? d["trigger"] : d;
      std::printf("%-24s %-10s %-20s %-20s %-10s %s\n", S(d, "id").c_str(), S(d, "state").c_str(),
                  S(t, "kind").c_str(), Stacks(t).c_str(), Duration(d).c_str(),
                  Or(S(d, "queued_at")).c_str());
    }
  }
}

// `status --json`'s overview: one object laid out by the writer, each part pretty-printed as the
// daemon answered it (null stacks when the daemon could not observe them).
std::string OverviewJson(const rapidjson::Value& deployments, const rapidjson::Value* stacks) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("deployments");
  const std::string d = Pretty(deployments);
  w.RawValue(d.data(), d.size(), deployments.GetType());
  w.Key("stacks");
  if (stacks == nullptr) {
    w.Null();
  } else {
    const std::string s = Pretty(*stacks);
    w.RawValue(s.data(), s.size(), stacks->GetType());
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// The stacks and the recent deployments.
int ShowOverview(const std::string& server, const std::string& token, bool json) {
  rapidjson::Document deployments;
  rapidjson::Document stacks;
  if (!Fetch(server, token, "/deployments?limit=20", deployments)) return kExitFailure;
  // When the daemon cannot observe the stacks (503, said on stderr) the history is still
  // worth showing; the exit status says that something is wrong.
  const bool stacks_ok = Fetch(server, token, "/stacks", stacks);
  if (json) {
    std::printf("%s\n", OverviewJson(Member(deployments, "deployments"),
                                     stacks_ok ? &Member(stacks, "stacks") : nullptr)
                            .c_str());
    return stacks_ok ? kExitOk : kExitFailure;
  }
  PrintStacks(stacks, stacks_ok);
  PrintDeployments(deployments);
  return stacks_ok ? kExitOk : kExitFailure;
}

}  // namespace

int Status(const GlobalOptions&, const Args& args) {
  auto parsed = ParseArgs(args);
  if (!parsed) return kExitUsage;
  const std::string server = ServerUrl(parsed->server);
  auto token = ApiToken(parsed->token_file, "status");
  if (!token) return kExitFailure;
  if (!parsed->id.empty()) return ShowDeployment(server, *token, parsed->id, parsed->json);
  return ShowOverview(server, *token, parsed->json);
}

}  // namespace podcd::cli
