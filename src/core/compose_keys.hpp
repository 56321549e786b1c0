// The compose keys podcd accepts, one table per section: for each key how compose/ reads it,
// the model field it fills and how it enters the canonical (fingerprinted) form. A key
// missing from these tables is refused by the loader; a key in them is fingerprinted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/fingerprint.hpp"
#include "core/model.hpp"

namespace podcd::core {

// How compose/ reads a service key's value. The loader switches over it without a default,
// so a new kind without a parser does not compile.
enum class ParseAs : std::uint8_t {
  // Into the row's field (ServiceField):
  kString,
  kBool,
  kOptionalBool,
  kInt,
  kSize,             // "512m", "1g", bytes
  kSizeOrUnlimited,  // the same, or -1
  kCpus,             // "1.5" -> nano CPUs
  kDuration,         // Go duration into an optional
  kList,             // a string or a list of strings
  kStrictList,       // a list of strings
  kMap,              // a mapping or a list of KEY=VALUE
  kCapabilities,     // a list, upper-cased, CAP_ dropped, sorted
  kCommand,          // a shell-split string or a list
  kExtraHosts,       // a list of host:ip / host=ip or a mapping
  kRestart,          // a string, validated
  kPullPolicy,       // a string, validated, if_not_present -> missing
  kNetworkMode,      // a string, validated once the whole service is read
  kEnvironment,      // merged over the env files once the whole service is read
  // Structures with their own parser in compose/ (the row's comment names the field):
  kBuild,
  kEnvFile,
  kPorts,
  kVolumes,
  kNetworks,
  kHealthcheck,
  kDependsOn,
  kLogging,
  kDeploy,
  kUlimits,
  kDevices,
  kConfigs,
  kSecrets,
  // Accepted and not acted on: the loader adds a note (Stack::notes) with the row's `note`.
  kIgnored,
};

// How the stack policy (core/policy.cpp) treats a key: every row of every table has one, and
// docs/security.md lists them (tests/unit/core/policy_keys_test.cpp checks both). A stack's
// author is not trusted with the host: a key that can reach it is checked value by value.
enum class PolicyClass : std::uint8_t {
  kUnclassified,  // no row may keep it: a new key must say how the policy treats it
  kHarmless,      // stays inside the container and the stack's own resources
  kChecked,       // each value checked; `rules` names the allowances that can permit it
  kRepoFiles,     // a path resolved with symlinks, kept inside the repository or secrets dir
  kListed,        // the value must be in a list of the configuration (the refusal names it)
};
std::string_view ToString(PolicyClass c);

// A row's policy column: the class and, for kChecked, the rule names (space-separated, as in
// config::kPolicyRules) that a refusal of this key can name.
struct KeyPolicy {
  PolicyClass cls = PolicyClass::kUnclassified;
  std::string_view rules = {};
};

// The Service member a plain row fills; monostate for structures.
using ServiceField =
    std::variant<std::monostate, std::string Service::*, bool Service::*, std::optional<bool> Service::*,
                 std::int64_t Service::*, std::optional<Nanos> Service::*,
                 std::vector<std::string> Service::*, std::optional<std::vector<std::string>> Service::*,
                 std::map<std::string, std::string> Service::*>;

// Adds the row's canonical fields: usually `key` -> the encoded field; some rows add more
// (per-key entries, the stack-level definitions the service uses).
using CanonicalizeFn = void (*)(const Stack& stack, const Service& service, std::string_view key,
                                CanonicalFields& fields);

struct ServiceKey {
  std::string_view key;
  ParseAs parse;
  ServiceField field;
  CanonicalizeFn canonicalize;  // nullptr: enters through other fields (env_file)
  // Where reconcile/spec_map.cpp puts the key: the top-level fields of libpod's container
  // create body (the SpecGenerator) it sets, and `job.*` for what steers the deployment
  // instead (pull, build, depends_on); space-separated. Empty: the key reaches no container
  // setting (the row's comment says why). tests/unit/reconcile/spec_keys_test.cpp changes each
  // key and checks that exactly these fields change.
  std::string_view spec = {};
  KeyPolicy policy = {};
  // What podcd does with the key where `spec` does not say it (docs/repository.md's table); for
  // kIgnored, why the key has no meaning on a server (the plan's note says it).
  std::string_view note = {};

  [[nodiscard]] constexpr ServiceKey Note(std::string_view text) const {
    ServiceKey k = *this;
    k.note = text;
    return k;
  }
};

// Every service key podcd accepts (in no significant order: the canonical form is sorted).
std::span<const ServiceKey> ServiceKeys();
// The row for `key`, or nullptr (an unsupported key).
const ServiceKey* FindServiceKey(std::string_view key);

// docs/repository.md's table of compose keys, as Markdown, generated from the tables below and
// above (tests/unit/compose/compose_keys_doc_test.cpp keeps the page equal to it).
std::string ComposeKeysMarkdown();

// Top-level sections (networks, volumes, configs, secrets): how a definition's keys are read.
enum class DefParseAs : std::uint8_t {
  kString,
  kBool,
  kMap,
  kExternal,  // `external: true` or the legacy `external: {name: x}` (which sets `name`)
  kFile,      // a repository file; the field receives its key into Stack::files
  kIpam,      // networks: `ipam` (driver, config: [{subnet, ip_range, gateway, aux_addresses}])
};

template <class Def>
using DefField =
    std::variant<std::string Def::*, bool Def::*, std::map<std::string, std::string> Def::*, Ipam Def::*>;

template <class Def>
struct DefKey {
  std::string_view key;
  DefParseAs parse;
  DefField<Def> field;  // also the member of the definition's canonical object
  KeyPolicy policy = {};
  std::string_view note = {};  // what podcd does with it (docs/repository.md's table)
};

// Sorted by key: the canonical object of a definition lists its fields in this order.
std::span<const DefKey<NetworkDef>> NetworkKeys();
std::span<const DefKey<VolumeDef>> VolumeKeys();
std::span<const DefKey<FileObjectDef>> FileObjectKeys();  // configs and secrets

// A definition's canonical object: {"key":value,...} over its table.
std::string CanonicalDef(const NetworkDef& def);
std::string CanonicalDef(const VolumeDef& def);
std::string CanonicalDef(const FileObjectDef& def);

// x-podcd.hooks.<name> (check, prepare, pre_deploy, post_deploy; docs/hooks.md): a hook's
// keys, read by compose/hooks.cpp. A hook enters the fingerprint of the service it names
// (Canonicalize: "hook <name>"), so that a changed hook redeploys that service.
enum class HookParseAs : std::uint8_t {
  kService,   // the name of a service of the stack
  kCommand,   // a shell-split string or a list, not empty
  kDuration,  // a Go duration, above zero
  kBool,
};
using HookField =
    std::variant<std::string Hook::*, std::vector<std::string> Hook::*, Nanos Hook::*, bool Hook::*>;
struct HookKey {
  std::string_view key;
  HookParseAs parse;
  HookField field;
  KeyPolicy policy = {};
  std::string_view note = {};  // docs/repository.md's table
};
// Sorted by key; a hook's canonical object lists its fields in this order.
std::span<const HookKey> HookKeys();

}  // namespace podcd::core
