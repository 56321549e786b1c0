// Every compose key podcd accepts has a policy class (core/compose_keys), its rules are rule
// names the configuration knows, and docs/security.md lists each key with its class.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "config/config.hpp"
#include "core/compose_keys.hpp"
#include "core/policy.hpp"

using namespace podcd;
using namespace podcd::core;

namespace {

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void CheckPolicyColumn(std::string_view key, const KeyPolicy& p, std::set<std::string>& used) {
  INFO("key " << key);
  CHECK(p.cls != PolicyClass::kUnclassified);
  CHECK((p.cls == PolicyClass::kChecked) == !p.rules.empty());
  for (const auto& r : Words(p.rules)) {
    INFO("rule " << r);
    CHECK(std::find(std::begin(config::kPolicyRules), std::end(config::kPolicyRules), r) !=
          std::end(config::kPolicyRules));
    used.insert(r);
  }
}

std::string Row(std::string_view section, std::string_view key, const KeyPolicy& p) {
  std::string rules;
  for (const auto& r : Words(p.rules)) rules += (rules.empty() ? "`" : ", `") + r + "`";
  return "| `" + std::string(section) + "." + std::string(key) + "` | " + std::string(ToString(p.cls)) +
         " | " + (rules.empty() ? "–" : rules) + " |\n";
}

// The table docs/security.md must hold, as the key tables make it.
std::string KeyTable() {
  std::string out = "| key | class | rules that can permit it |\n| --- | --- | --- |\n";
  std::vector<const ServiceKey*> rows;
  for (const auto& r : ServiceKeys()) rows.push_back(&r);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->key < b->key; });
  for (const auto* r : rows) out += Row("services", r->key, r->policy);
  for (const auto& r : NetworkKeys()) out += Row("networks", r.key, r.policy);
  for (const auto& r : VolumeKeys()) out += Row("volumes", r.key, r.policy);
  for (const auto& r : FileObjectKeys()) out += Row("configs/secrets", r.key, r.policy);
  for (const auto& r : HookKeys()) out += Row("x-podcd.hooks.<hook>", r.key, r.policy);
  return out;
}

}  // namespace

TEST_CASE("every compose key has a policy class, and every rule is reachable from a key") {
  std::set<std::string> used;
  for (const auto& r : ServiceKeys()) CheckPolicyColumn(r.key, r.policy, used);
  for (const auto& r : NetworkKeys()) CheckPolicyColumn(r.key, r.policy, used);
  for (const auto& r : VolumeKeys()) CheckPolicyColumn(r.key, r.policy, used);
  for (const auto& r : FileObjectKeys()) CheckPolicyColumn(r.key, r.policy, used);
  for (const auto& r : HookKeys()) CheckPolicyColumn(r.key, r.policy, used);
  for (auto rule : config::kPolicyRules) {
    INFO("rule " << rule << " is named by no key's policy column");
    CHECK(used.contains(std::string(rule)));
  }
}

TEST_CASE("compose keys that reach the host and podcd does not accept stay refused by the loader") {
  // Adding one of these to the key table needs a policy class and a check in core/policy.cpp.
  for (const char* key : {"uts", "cgroup", "cgroup_parent", "cgroupns_mode", "volumes_from", "oom_score_adj",
                          "oom_kill_disable", "device_cgroup_rules", "pid_mode", "ipc_mode", "isolation",
                          "storage_opt", "mac_address", "credential_spec", "blkio_config", "cpuset"}) {
    INFO(key);
    CHECK(FindServiceKey(key) == nullptr);
  }
}

TEST_CASE("docs/security.md lists every compose key with its policy class") {
  std::ifstream in(std::string(PODCD_SOURCE_DIR) + "/docs/security.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string table = KeyTable();
  INFO("docs/security.md must hold this table (generated from core/compose_keys.cpp):\n" << table);
  CHECK(text.str().find(table) != std::string::npos);
  // And the rule names, each in the rules table.
  for (auto rule : config::kPolicyRules) {
    INFO("rule " << rule);
    CHECK(text.str().find("| `" + std::string(rule) + "` |") != std::string::npos);
  }
}
