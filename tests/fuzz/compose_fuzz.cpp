// libFuzzer target: compose loading from text (YAML, merge keys, interpolation, every key
// parser), .env parsing and interpolation, then policy and fingerprint on what loads; the
// same text as a Containerfile (base images: ARGs, stages, heredocs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "compose/interpolate.hpp"
#include "compose/loader.hpp"
#include "core/fingerprint.hpp"
#include "core/policy.hpp"
#include "reconcile/containerfile.hpp"

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
    fs::create_directories(root / "services/web/html");
    fs::create_directories(root / "secrets");
    std::ofstream(root / "services/web/.env") << "TAG=1\nPORT=8080\n";
    std::ofstream(root / "services/web/app.env") << "A=1\nB=\"two ${TAG}\"\n";
    std::ofstream(root / "services/web/nginx.conf") << "server {}\n";
    std::ofstream(root / "services/web/html/index.html") << "hi\n";
    std::ofstream(root / "secrets/web.env") << "PASSWORD=x\n";
    // Files to extend and include (compose/sources.cpp), one of them including itself.
    std::ofstream(root / "services/web/base.yml") << "services:\n  b: {image: x, environment: [A=1]}\n"
                                                  << "  c: {extends: b, ports: [\"80\"]}\n";
    fs::create_directories(root / "shared");
    std::ofstream(root / "shared/inc.yml") << "include: [inc.yml]\nservices:\n  i: {image: x}\n";
    stack = {"web", root / "services/web", root / "services/web/compose.yml"};
    options.repo_root = root;
    options.secrets_dir = root / "secrets";
    options.host_env = podcd::compose::MapLookup({{"TZ", "UTC"}});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto vars = podcd::compose::MapLookup({{"SET", "v"}, {"EMPTY", ""}});
  (void)podcd::compose::Interpolate(text, vars);
  (void)podcd::compose::ParseEnvFile(text, "fuzz.env", vars);
  (void)podcd::compose::SplitCommand(text);
  (void)podcd::reconcile::BaseImages(text, {{"TAG", "1"}});
  auto stack = podcd::compose::LoadStackFromText(text, fixture.stack, fixture.options);
  if (stack) {
    podcd::core::PolicySettings policy;
    policy.allowed_bind_roots = {"/srv"};
    (void)podcd::core::CheckPolicy(*stack, policy);
    for (const auto& s : stack->services) {
      auto fields = podcd::core::Canonicalize(*stack, s);
      (void)podcd::core::Fingerprint(fields);
      (void)podcd::core::ChangedFields(fields, {});
    }
  }
  return 0;
}
