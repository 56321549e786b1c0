#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "config/config.hpp"

namespace podcd::cli {

namespace {

// `check-config --keys`: the defaults table as Markdown (docs/configuration.md embeds it).
int PrintKeys() {
  std::printf("| key | default | environment | meaning |\n| --- | --- | --- | --- |\n");
  for (const auto& k : config::DescribeKeys()) {
    std::string env;
    for (const auto& e : k.env) env += (env.empty() ? "`" : ", `") + e + "`";
    std::printf("| `%s` | %s | %s | %s |\n", k.key.c_str(),
                k.default_value.empty() ? "" : ("`" + k.default_value + "`").c_str(), env.c_str(),
                k.help.c_str());
  }
  return kExitOk;
}

}  // namespace

int CheckConfig(const GlobalOptions& g, const Args& args) {
  if (args.size() == 1 && args.front() == "--keys") return PrintKeys();
  if (!args.empty()) {
    std::fprintf(stderr, "podcd check-config: unexpected argument \"%s\"\n", args.front().c_str());
    return kExitUsage;
  }
  auto cfg = LoadConfig(g);
  if (!cfg) return kExitFailure;
  std::printf("%s\n", config::Summary(**cfg).c_str());
  return kExitOk;
}

}  // namespace podcd::cli
