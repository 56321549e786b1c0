// `podcd health [--server URL] [--timeout SECONDS]`: exit 0 when the daemon's /health answers 200.
// The container image's HEALTHCHECK runs it (no curl in the runtime image).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

constexpr const char* kUsage =
    "usage: podcd health [--server URL] [--timeout SECONDS]\n"
    "  --server URL      the daemon (default $PODCD_SERVER, else http://127.0.0.1:PORT with the\n"
    "                    port of the configured listen address)\n"
    "  --timeout S       give up after S seconds (default 3)\n"
    "exit 0: the daemon answered 200; 1: it did not\n";

}  // namespace

int Health(const GlobalOptions& g, const Args& args) {
  std::string server;
  std::string timeout_text = "3";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out, std::string_view name) -> bool {
      if (auto eq = a.find('='); eq != std::string::npos) {
        out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "podcd health: %.*s needs a value\n", static_cast<int>(name.size()),
                     name.data());
        return false;
      }
      out = args[++i];
      return true;
    };
    bool ok = true;
    if (a == "--server" || a.starts_with("--server=")) {
      ok = value(server, "--server");
    } else if (a == "--timeout" || a.starts_with("--timeout=")) {
      ok = value(timeout_text, "--timeout");
    } else {
      std::fprintf(stderr, "podcd health: unexpected argument \"%s\"\n", a.c_str());
      ok = false;
    }
    if (!ok) return std::fprintf(stderr, "%s", kUsage), kExitUsage;
  }
  const auto timeout = ParseInt(timeout_text);
  if (!timeout || *timeout < 1 || *timeout > 300) {
    std::fprintf(stderr, "podcd health: --timeout: expected 1 to 300 seconds, got \"%s\"\n",
                 timeout_text.c_str());
    return kExitUsage;
  }
  if (server.empty()) {
    if (const char* env = std::getenv("PODCD_SERVER"); env && *env) {
      server = env;
    } else {
      auto config = LoadConfig(g);
      if (!config) return kExitFailure;  // LoadConfig printed why
      server = "http://127.0.0.1:" + std::to_string((*config)->listen.port);
    }
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  auto r = ApiCall("GET", server + "/health", "", {}, std::chrono::seconds(*timeout));
  if (!r) {
    std::fprintf(stderr, "podcd health: cannot reach %s: %s\n", server.c_str(), r.error().message.c_str());
    return kExitFailure;
  }
  if (r->status != 200) {
    std::fprintf(stderr, "podcd health: %s/health answered %ld: %s\n", server.c_str(), r->status,
                 r->body.substr(0, 200).c_str());
    return kExitFailure;
  }
  std::printf("%s\n", std::string(Trim(r->body)).c_str());
  return kExitOk;
}

}  // namespace podcd::cli
