// libFuzzer target: arbitrary bytes as a stack's compose file or .env, through the loader, the
// plan, and every JSON that quotes what the loader says about them (`podcd plan --json`, a
// JSON log line, a deployment record). Each must parse (RapidJSON, validating the encoding)
// and be valid UTF-8, whatever the bytes: a binary compose file's error quotes its bytes.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "compose/loader.hpp"
#include "core/plan.hpp"
#include "state/deployment.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"

namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path root;
  podcd::compose::StackDir stack;
  podcd::compose::LoadOptions options;

  Fixture() {
    std::string tmpl = (fs::temp_directory_path() / "podcd-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    root = fs::path(tmpl) / "repo";
    fs::create_directories(root / "services/web");
    stack = {"web", root / "services/web", root / "services/web/compose.yml"};
    options.repo_root = root;
    options.host_env = podcd::compose::MapLookup({{"TZ", "UTC"}});
  }
};

void MustParse(const std::string& text, const char* what) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError() || !podcd::json::IsValidUtf8(text)) {
    std::fprintf(stderr, "%s is not valid JSON (%s at %zu): %s\n", what,
                 rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset(), text.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  // The first byte chooses: the rest as the compose file, or as the .env of a compose file
  // that uses its variables.
  const bool as_env = (data[0] & 1) != 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const fs::path env = fixture.stack.dir / ".env";
  std::string compose(bytes);
  if (as_env) {
    std::ofstream(env, std::ios::binary | std::ios::trunc) << bytes;
    compose = "services:\n  a:\n    image: \"x:${TAG}\"\n    environment: {A: $A, B: \"${B:-$C}\"}\n";
  } else {
    std::filesystem::remove(env);
  }
  auto loaded = podcd::compose::LoadStackFromText(compose, fixture.stack, fixture.options);

  podcd::core::DesiredStack desired;
  desired.name = "web";
  if (!loaded) {
    desired.status = podcd::core::StackStatus::kInvalid;
    for (const auto& e : loaded.error()) desired.problems.push_back(e.What());
  } else {
    for (const auto& s : loaded->services) {
      podcd::core::DesiredService service;
      service.name = s.name;
      service.fingerprint = "f";
      desired.services.push_back(std::move(service));
    }
    desired.problems = loaded->warnings;
  }
  const auto plan = podcd::core::Plan({desired}, {});
  MustParse(podcd::core::ToJson(plan, std::string(bytes.substr(0, 40))), "the plan");

  podcd::state::Deployment record;
  record.id = "d";
  podcd::state::StackOutcome outcome;
  outcome.name = "web";
  outcome.outcome = "invalid";
  for (const auto& p : desired.problems) {
    outcome.reason += p + "; ";
    record.log.push_back(p);
    MustParse(podcd::log::FormatLine(podcd::log::Format::kJson, podcd::log::Level::kWarn,
                                     std::chrono::system_clock::time_point{}, p, {{"stack", p}}),
              "a log line");
  }
  record.stacks.push_back(outcome);
  MustParse(podcd::state::ToJson(record), "the deployment record");
  return 0;
}
