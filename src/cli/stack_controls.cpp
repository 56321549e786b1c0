// `podcd suspend STACK [--note TEXT]`, `podcd resume STACK`, `podcd pin STACK DEPLOYMENT`,
// `podcd unpin STACK`: the stack controls (docs/stack-controls.md), through a running daemon's
// API as `podcd status` reads it (POST /actions/<action>/<stack>).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kOptions =
    "  --server URL      the daemon (default $PODCD_SERVER, else http://127.0.0.1:8080)\n"
    "  --token-file F    file holding the API token (default $PODCD_API_TOKEN)\n"
    "  --json            print the API's answer\n";

struct ControlArgs {
  std::string server;
  std::string token_file;
  std::string note;
  std::vector<std::string> positional;
  bool json = false;
};

std::optional<ControlArgs> ParseArgs(const Args& args, bool with_note) {
  ControlArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& dest, std::string_view flag) { return TakeValue(args, i, flag, dest); };
    bool ok = true;
    if (a == "--json")
      out.json = true;
    else if (a == "--server" || a.starts_with("--server="))
      ok = value(out.server, "--server");
    else if (a == "--token-file" || a.starts_with("--token-file="))
      ok = value(out.token_file, "--token-file");
    else if (with_note && (a == "--note" || a.starts_with("--note=")))
      ok = value(out.note, "--note");
    else if (a.starts_with("-"))
      ok = false;
    else
      out.positional.push_back(a);
    if (!ok) return std::nullopt;
  }
  return out;
}

std::string S(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string JsonBody(std::initializer_list<std::pair<const char*, std::string>> fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : fields) {
    if (v.empty()) continue;
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// What the control is now, in words.
void PrintControl(const rapidjson::Value& c) {
  const std::string stack = S(c, "stack");
  std::printf("stack %s: %s\n", stack.c_str(), S(c, "state").c_str());
  if (c.HasMember("suspended") && c["suspended"].IsObject()) {
    const auto& s = c["suspended"];
    std::printf("  suspended by %s at %s%s\n", S(s, "by").c_str(), S(s, "at").c_str(),
                S(s, "note").empty() ? "" : (" (note: " + S(s, "note") + ")").c_str());
  }
  if (c.HasMember("pinned") && c["pinned"].IsObject()) {
    const auto& p = c["pinned"];
    std::printf("  pinned to deployment %s (commit %s) by %s at %s\n", S(p, "deployment").c_str(),
                S(p, "commit").substr(0, 12).c_str(), S(p, "by").c_str(), S(p, "at").c_str());
  }
}

// POSTs /actions/<action>/<stack> and prints the answer.
int Act(const char* action, const Args& args, std::size_t positional, bool with_note, const char* usage) {
  auto parsed = ParseArgs(args, with_note);
  if (!parsed || parsed->positional.size() != positional) {
    std::fprintf(stderr, "usage: %s\n%s", usage, kOptions);
    return kExitUsage;
  }
  const std::string& stack = parsed->positional[0];
  if (!IsValidStackName(stack)) {
    std::fprintf(stderr, "podcd %s: not a valid stack name: %s\n", action, stack.c_str());
    return kExitUsage;
  }
  auto token = ApiToken(parsed->token_file, action);
  if (!token) return kExitFailure;
  const std::string server = ServerUrl(parsed->server);
  const std::string body =
      JsonBody({{"note", parsed->note}, {"deployment", positional > 1 ? parsed->positional[1] : ""}});
  const std::string url = server + "/actions/" + action + "/" + stack;
  auto r = ApiCall("POST", url, *token, body);
  if (!r) {
    std::fprintf(stderr, "podcd %s: cannot reach %s: %s\n", action, server.c_str(),
                 r.error().message.c_str());
    return kExitFailure;
  }
  rapidjson::Document doc;
  doc.Parse(r->body.data(), r->body.size());
  if (r->status != 200 && r->status != 202) {
    const std::string msg = doc.HasParseError() ? r->body.substr(0, 200) : S(doc, "error");
    std::fprintf(stderr, "podcd %s: %s answered %ld: %s\n", action, url.c_str(), r->status, msg.c_str());
    return kExitFailure;
  }
  if (parsed->json || doc.HasParseError()) {
    std::printf("%s\n", r->body.c_str());
    return kExitOk;
  }
  if (r->status == 202) {
    PrintControl(doc.HasMember("control") ? doc["control"] : doc);
    std::printf("deployment %s queued (podcd status %s)\n", S(doc, "deployment").c_str(),
                S(doc, "deployment").c_str());
  } else {
    PrintControl(doc);
  }
  return kExitOk;
}

}  // namespace

int Suspend(const GlobalOptions&, const Args& args) {
  return Act("suspend", args, 1, true, "podcd suspend STACK [--note TEXT]");
}
int Resume(const GlobalOptions&, const Args& args) {
  return Act("resume", args, 1, false, "podcd resume STACK");
}
int Pin(const GlobalOptions&, const Args& args) {
  return Act("pin", args, 2, false, "podcd pin STACK DEPLOYMENT");
}
int Unpin(const GlobalOptions&, const Args& args) {
  return Act("unpin", args, 1, false, "podcd unpin STACK");
}

}  // namespace podcd::cli
