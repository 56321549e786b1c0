// Hostile stacks through the real podcd binary and a real git remote and Podman: a stack whose
// files would take unbounded memory or time (merge keys and variables that fan out, a build
// context of too many files, an ignore pattern that backtracks, binary bytes) is refused with
// its reason in bounded time and memory, the JSON of `podcd plan --json` stays valid, and the
// other stacks are planned and deployed.
#include <rapidjson/document.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "e2e_fixture.hpp"
#include "util/json_text.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

const std::string kService =
    "services:\n  web:\n    image: localhost/bb:1\n"
    "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n    init: true\n";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct PlanRun {
  int exit_code = -1;
  std::string json;    // stdout
  std::string errors;  // stderr
  std::chrono::steady_clock::duration took{};
};

// `podcd plan --json`, its stdout apart from its log lines.
PlanRun PlanJson(Rig& rig, const std::string& config) {
  const auto out = rig.dir() / "plan.json";
  const auto err = rig.dir() / "plan.err";
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCommand("timeout 300 " + std::string(PODCD_BINARY) + " plan --json --config " + Quote(config) +
                      " >" + Quote(out.string()) + " 2>" + Quote(err.string()));
  PlanRun run;
  run.took = std::chrono::steady_clock::now() - start;
  run.exit_code = r.exit_code;
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  run.json = read(out);
  run.errors = read(err);
  return run;
}

// stack name -> {action, reasons joined by "\n"}, after checking that the text is valid JSON
// and valid UTF-8.
std::map<std::string, std::pair<std::string, std::string>> Stacks(const std::string& text) {
  INFO(text.substr(0, 4000));
  REQUIRE(json::IsValidUtf8(text));
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("stacks"));
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& s : doc["stacks"].GetArray()) {
    std::string reasons;
    for (const auto& r : s["reasons"].GetArray())
      reasons += std::string(r.GetString(), r.GetStringLength()) + "\n";
    out[s["name"].GetString()] = {s["action"].GetString(), reasons};
  }
  return out;
}

std::string ConfigOf(Rig& rig) { return (rig.dir() / "podcd.yml").string(); }

}  // namespace

TEST_CASE("podcd plan --json stays valid JSON over binary compose and .env files", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string good = rig.Stack("good");
  std::map<std::string, std::string> files = {{"services/" + good + "/compose.yml", kService}};
  // Random bytes, NULs and ill-formed UTF-8 among them; some start as YAML so that the
  // error quotes bytes from further in.
  std::mt19937 random(20261202);
  std::vector<std::string> binary;
  for (int i = 0; i < 24; ++i) {
    std::string bytes = i % 3 == 0 ? "services:\n  a:\n    image: \"" : (i % 3 == 1 ? "x-a: " : "");
    const int n = 16 + static_cast<int>(random() % 600);
    for (int k = 0; k < n; ++k) bytes.push_back(static_cast<char>(random() % 256));
    bytes += i % 2 == 0 ? std::string("\xc3\x28\xff\xfe\x00\xed\xa0\x80", 8) : std::string("\x80\x00", 2);
    const std::string stack = rig.Stack("bin" + std::to_string(i));
    binary.push_back(stack);
    files["services/" + stack + "/compose.yml"] = bytes;
    if (i % 4 == 0) {
      files["services/" + stack + "/compose.yml"] = kService + "    environment: {X: $X}\n";
      files["services/" + stack + "/.env"] = "X=\"" + bytes + "\"\n";
    }
  }
  rig.Commit(files, "binary stacks");
  auto plan = PlanJson(rig, ConfigOf(rig));
  INFO(plan.errors);
  CHECK(plan.exit_code == 3);  // work to do: the good stack
  auto stacks = Stacks(plan.json);
  CHECK(stacks[good].first == "create");
  for (const auto& stack : binary) {
    INFO(stack << ": " << stacks[stack].second);
    CHECK(stacks[stack].first == "invalid");
    CHECK_FALSE(stacks[stack].second.empty());
  }
}

TEST_CASE("stacks whose files fan out are invalid with their reasons; the others plan and deploy", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string good = rig.Stack("good");
  const std::string merges = rig.Stack("merges");
  const std::string dotenv = rig.Stack("dotenv");
  const std::string context = rig.Stack("context");
  const std::string pattern = rig.Stack("pattern");
  std::map<std::string, std::string> files = {{"services/" + good + "/compose.yml", kService}};
  // Under 1 MiB: a mapping of 40,000 keys merged into 40,000 items (1.6 * 10^9 entries).
  std::string fan = "x-a: &a {";
  for (int i = 0; i < 40'000; ++i) fan += (i ? ", k" : "k") + std::to_string(i) + ": 1";
  fan += "}\nx-b:\n";
  for (int i = 0; i < 40'000; ++i) fan += "  - <<: *a\n";
  files["services/" + merges + "/compose.yml"] = fan + kService;
  // Variables that expand each other a thousandfold: 10 bytes, 10 KB, 10 MB, 10 GB.
  std::string dot = "A=xxxxxxxxxx\n";
  for (char v : {'B', 'C', 'D'}) {
    dot += std::string(1, v) + "=";
    for (int i = 0; i < 1000; ++i) dot += std::string("$") + static_cast<char>(v - 1);
    dot += "\n";
  }
  files["services/" + dotenv + "/.env"] = dot;
  files["services/" + dotenv + "/compose.yml"] = kService + "    environment: {X: $D}\n";
  // A build context of more files than podcd walks.
  const std::string build = "services:\n  web:\n    build: ./app\n";  // no image: podcd builds it
  files["services/" + context + "/compose.yml"] = build;
  files["services/" + context + "/app/Containerfile"] = "FROM localhost/bb:1\n";
  // An ignore pattern that a backtracking matcher takes forever on, and a long name to try it on.
  std::string stars;
  for (int i = 0; i < 24; ++i) stars += "*a";
  files["services/" + pattern + "/compose.yml"] = build;
  files["services/" + pattern + "/app/Containerfile"] = "FROM localhost/bb:1\n";
  files["services/" + pattern + "/app/.containerignore"] = stars + "*b\n";
  files["services/" + pattern + "/app/" + std::string(250, 'a')] = "x";
  // Written beside the others, not through Commit's map: 100,001 files.
  for (int i = 0; i <= 100'000; ++i) {
    const auto dir = rig.dir() / "dev/services" / context / "app/many" / std::to_string(i / 1000);
    if (i % 1000 == 0) std::filesystem::create_directories(dir);
    std::ofstream(dir / std::to_string(i)) << "";
  }
  rig.Commit(files, "hostile stacks");

  rusage before{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto plan = PlanJson(rig, ConfigOf(rig));
  rusage after{};
  getrusage(RUSAGE_CHILDREN, &after);
  INFO(plan.errors);
  CHECK(plan.exit_code == 3);
  CHECK(plan.took < std::chrono::seconds(120));  // minutes of swapping, or forever, before
  CHECK(after.ru_maxrss < 1'500'000);            // KiB: bad_alloc, or tens of GB, before
  auto stacks = Stacks(plan.json);
  CHECK(stacks[good].first == "create");
  CHECK(stacks[pattern].first == "create");  // the pattern is matched, in linear time
  CHECK(stacks[merges].first == "invalid");
  CHECK(
      Contains(stacks[merges].second, "services/" + merges +
                                          "/compose.yml:26:5: the document expands to more than 1000000 YAML "
                                          "nodes, podcd's limit"));
  CHECK(stacks[dotenv].first == "invalid");
  CHECK(Contains(stacks[dotenv].second,
                 "services/" + dotenv +
                     "/.env:3: the value expands to more than 1048576 bytes once variables are substituted"));
  CHECK(stacks[context].first == "invalid");
  CHECK(
      Contains(stacks[context].second,
               "services/" + context + "/app: holds more than 100000 files and directories, podcd's limit"));

  // Not the pattern stack: its context (a 250-byte name) is not one a tar header can hold.
  state::Trigger trigger;
  trigger.kind = state::TriggerKind::kDeploy;
  trigger.stacks = {good, merges, dotenv, context};
  auto run = rig.Reconcile(trigger);
  INFO(run.Describe());
  REQUIRE(run.Stack(good) != nullptr);
  CHECK(run.Stack(good)->outcome == "updated");
  for (const auto& stack : {merges, dotenv, context}) {
    REQUIRE(run.Stack(stack) != nullptr);
    CHECK(run.Stack(stack)->outcome == "invalid");
  }
  CHECK(rig.Ids(good).size() == 1);
  CHECK(rig.Containers(merges).empty());
}
