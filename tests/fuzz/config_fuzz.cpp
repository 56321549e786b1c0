// libFuzzer target over the configuration file (config::Load with the file's text, an empty
// environment). Properties: it loads or says why, every error names where; a loaded
// configuration loads again from the text it kept (what a worker does) to the same summary;
// the summary never shows the webhook secret or the API token.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/log.hpp"

using namespace podcd;

namespace {

void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property broken: %s [%.*s]\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

config::LoadOptions Options(std::string text) {
  config::LoadOptions o;
  o.file = "/fuzz/podcd.yml";
  o.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  o.text = std::move(text);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 65536));
  auto c = config::Load(Options(text));
  if (!c) {
    Check(!c.error().empty(), "a refusal has errors");
    for (const auto& e : c.error()) Check(!e.message.empty(), "every error says what");
  } else {
    const std::string summary = config::Summary(*c);
    auto again = config::Load(Options(c->file_text));
    Check(again.has_value(), "a loaded configuration loads again from its text", c->file_text);
    Check(config::Summary(*again) == summary, "the same configuration again", summary);
    // Long enough not to be a piece of the summary's own words by chance.
    if (c->webhook.secret.size() >= 24)
      Check(summary.find(c->webhook.secret) == std::string::npos, "no secret");
    if (c->api.token.size() >= 24) Check(summary.find(c->api.token) == std::string::npos, "no token");
  }
  log::ClearSecretsForTest();  // Load registers secrets with the log mask: one set per input
  return 0;
}
