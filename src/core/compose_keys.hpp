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
  // Room for a later column: the policy class core/policy.cpp checks the key under.
};

// Every service key podcd accepts (in no significant order: the canonical form is sorted).
std::span<const ServiceKey> ServiceKeys();
// The row for `key`, or nullptr (an unsupported key).
const ServiceKey* FindServiceKey(std::string_view key);

// Top-level sections (networks, volumes, configs, secrets): how a definition's keys are read.
enum class DefParseAs : std::uint8_t {
  kString,
  kBool,
  kMap,
  kExternal,  // `external: true` or the legacy `external: {name: x}` (which sets `name`)
  kFile,      // a repository file; the field receives its key into Stack::files
};

template <class Def>
using DefField = std::variant<std::string Def::*, bool Def::*, std::map<std::string, std::string> Def::*>;

template <class Def>
struct DefKey {
  std::string_view key;
  DefParseAs parse;
  DefField<Def> field;  // also the member of the definition's canonical object
};

// Sorted by key: the canonical object of a definition lists its fields in this order.
std::span<const DefKey<NetworkDef>> NetworkKeys();
std::span<const DefKey<VolumeDef>> VolumeKeys();
std::span<const DefKey<FileObjectDef>> FileObjectKeys();  // configs and secrets

// A definition's canonical object: {"key":value,...} over its table.
std::string CanonicalDef(const NetworkDef& def);
std::string CanonicalDef(const VolumeDef& def);
std::string CanonicalDef(const FileObjectDef& def);

}  // namespace podcd::core
