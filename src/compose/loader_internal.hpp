// The compose loader's internals, shared by its parts (one .cpp per section: service, build,
// volumes, networks, configs/secrets; scalars, paths, env files, discovery). Not for use
// outside compose/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compose/loader.hpp"
#include "compose/merge.hpp"
#include "compose/yaml_tree.hpp"
#include "core/compose_keys.hpp"
#include "core/model.hpp"

namespace podcd {
class ContextIgnore;
}
namespace podcd::ip {
struct Network;
}

namespace podcd::compose {

namespace fs = std::filesystem;
using tree::Node;

inline bool IsExtension(std::string_view key) { return key.starts_with("x-"); }
inline std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }
// How a path inside the secrets directory is named (Loader::Resolved::key).
inline constexpr std::string_view kSecretsKeyPrefix = "<secrets>/";

// Whether `p` lies lexically inside `root`.
bool Within(const fs::path& root, const fs::path& p);
// sha256 (hex) of a file, charged against `budget`; `error` set on failure.
std::string HashFile(const fs::path& p, std::uintmax_t& budget, std::string& error);
// Parses a Go duration ("1m30s", "1.5s", "250ms", "10us", "5ns"); a bare integer is seconds.
std::optional<core::Nanos> ParseGoDuration(std::string_view s);
// "512m", "1g", "1.5gb", "1024" (bytes), binary multiples; -1 allowed when `allow_minus_one`.
std::optional<std::int64_t> ParseSize(std::string_view s, bool allow_minus_one);
std::optional<std::uint16_t> ParsePort(std::string_view s);
std::optional<core::PortRange> ParsePortRange(std::string_view s);

// One stack's load: every error is collected (up to 200) with file:line:col and key path.
class Loader {
 public:
  Loader(const StackDir& stack, const LoadOptions& o);
  std::expected<core::Stack, LoadErrors> Run(std::string_view text);

 private:
  struct Resolved {
    fs::path abs;     // canonical
    std::string key;  // "services/web/x" or "<secrets>/x"
    bool exists = false;
    bool InSecrets() const { return key.starts_with(kSecretsKeyPrefix); }
  };
  enum class Scope { kRepoOrSecrets, kAnywhere };
  // A reference checked once every service is read.
  struct Ref {
    std::string from;
    std::string to;
    tree::Mark mark;
    std::string path;
    bool optional = false;  // depends_on with required: false
  };
  // What a service's keys leave for the checks after the whole service is read.
  struct ServiceParse {
    core::Service s;
    std::map<std::string, std::string> env_from_files;
    std::map<std::string, std::string> env;
    std::vector<std::string> env_null;
    bool has_networks = false;
    const Node* network_mode_node = nullptr;
    const Node* build_node = nullptr;
  };

  // One file of the stack (Mark::file indexes files_): the compose file, its override file,
  // each included and extended file.
  struct SourceFile {
    std::string rel;             // repository-relative: errors and the fingerprint name it so
    fs::path dir;                // its relative paths resolve from here (its project directory)
    fs::path scope;              // the files it extends must lie under this directory
    std::optional<Lookup> vars;  // its variables, when not the stack's (an include's env_file)
    std::string sha256;
  };
  // A file with its extends and includes resolved: its tree and, per service, the files
  // (indices into files_) that shaped the service besides the compose file.
  struct Unit {
    tree::NodePtr root;
    std::map<std::string, std::set<int>> shapes;
  };
  using ExtendsChain = std::vector<std::pair<int, std::string>>;
  // A service with its extends chain resolved.
  struct Extended {
    tree::NodePtr node;     // nullptr after an error
    std::set<int> shapes;   // the other files its chain went through
    std::size_t depth = 0;  // the length of its extends chain
  };

  // ---------- the stack's files: override file, include, extends (sources.cpp)
  tree::NodePtr Assemble(std::string_view text);
  std::optional<int> ReadSource(const Node& at, const std::string& path, const Resolved& r,
                                const fs::path& dir, const fs::path& scope, std::optional<Lookup> vars);
  std::optional<Resolved> SourcePath(const Node& n, const std::string& path, const std::string& raw);
  void OverrideFile(Unit& main);
  Unit Extends(int file);
  const Extended& ExtendedService(int file, const std::string& name, ExtendsChain& chain);
  std::optional<std::pair<int, std::string>> ExtendsTarget(int file, const Node& v, const std::string& path);
  void Includes(Unit& unit, std::vector<std::string>& chain);
  struct IncludeSpec {
    std::vector<std::pair<const Node*, std::string>> paths;
    const Node* project_node = nullptr;
    std::string project_raw;
    const Node* env_file = nullptr;
  };
  std::optional<IncludeSpec> ParseInclude(const Node& item, const std::string& p);
  std::optional<Unit> IncludeItem(const Node& item, const std::string& p, std::vector<std::string>& chain);
  std::optional<Lookup> IncludeVars(const Node& item, const std::string& p, const Node* env_file,
                                    const fs::path& project);
  void Import(Unit& into, const Unit& from);
  void MergeIssues(TreeMerger& merger);
  void AddShapingFiles();
  const SourceFile* SourceOf(const tree::Mark& m) const;
  std::string FileOf(const tree::Mark& m) const;

  // ---------- errors and positions (loader.cpp)
  void Err(const Node& n, const std::string& path, const std::string& msg);
  void ErrAt(const tree::Mark& m, const std::string& path, const std::string& msg);
  void TypeErr(const Node& n, const std::string& path, std::string_view want);
  void Unsupported(const tree::Entry& e, const std::string& path);
  // A mapping of options at `path`: `visit(entry, "path.key")` takes the keys it knows and
  // answers false for the others, which are reported unsupported. Not a mapping is a type
  // error, and the answer false.
  template <typename Visit>
  bool Options(const Node& v, const std::string& path, Visit visit) {
    if (!v.IsMap()) {
      TypeErr(v, path, "a mapping");
      return false;
    }
    for (const auto& e : v.entries) {
      if (!visit(e, path + "." + e.key)) Unsupported(e, path);
    }
    return true;
  }

  // ---------- scalars (scalars.cpp)
  std::optional<std::string> Str(const Node& n, const std::string& path);
  // Charges a value read to the stack's kMaxStackValueBytes; false (and one error) over it.
  bool Spend(const Node& n, const std::string& path, std::size_t bytes);
  std::optional<bool> Bool(const Node& n, const std::string& path);
  std::optional<std::int64_t> Int(const Node& n, const std::string& path);
  std::optional<core::Nanos> Duration(const Node& n, const std::string& path);
  std::optional<std::int64_t> Size(const Node& n, const std::string& path, bool allow_minus_one = false);
  std::optional<std::int64_t> NanoCpus(const Node& n, const std::string& path);
  std::optional<std::uint32_t> Mode(const Node& n, const std::string& path);
  void SetStr(const Node& n, const std::string& path, std::string& dst);
  void SetBool(const Node& n, const std::string& path, bool& dst);
  // A string or a list of strings.
  std::vector<std::string> StrList(const Node& n, const std::string& path, bool allow_single = true);
  // A mapping of strings, or a list of "KEY=VALUE"; `null_values` receives keys without value.
  std::map<std::string, std::string> StrMap(const Node& n, const std::string& path,
                                            std::vector<std::string>* null_values = nullptr);
  static std::vector<std::string> SortedUnique(std::vector<std::string> v);
  std::optional<std::vector<std::string>> Command(const Node& v, const std::string& p);

  // ---------- paths and file digests (paths.cpp)
  std::string RepoRel(const fs::path& p) const;
  std::optional<Resolved> ResolvePath(const Node& n, const std::string& path, const std::string& raw,
                                      Scope scope, bool* outside = nullptr);
  std::optional<std::string> ReadSmall(const Node& n, const std::string& path, const Resolved& r);
  std::optional<std::string> Reference(const Node& n, const std::string& path, const Resolved& r,
                                       core::FileKind kind, const std::string& build_file = {});
  std::string HashDir(const fs::path& root, std::string& error, const ContextIgnore* ignore = nullptr,
                      const std::vector<std::string>& keep = {});

  // ---------- variables and env files (env_files.cpp)
  // Hands what was read from the secrets directory to LoadOptions::on_secret_value.
  void SecretValues(const Resolved& r, const EnvEntries& entries) const;
  void SecretFile(const Resolved& r);
  void LoadVariables();
  void EnvFiles(const Node& v, const std::string& p, core::Service& s,
                std::map<std::string, std::string>& env);

  // ---------- top level and definitions (loader.cpp)
  void Top(const Node& root);
  static bool IsValidServiceName(std::string_view n);
  // A definition's keys read through its table (core/compose_keys); returns the `file`
  // node, if any, with its raw value in `file`.
  template <class Def>
  const Node* Definition(const Node& v, const std::string& path, std::span<const core::DefKey<Def>> keys,
                         Def& d, std::string& file);
  // Top-level networks or volumes.
  template <class Def>
  void Definitions(const Node& n, const std::string& what, std::span<const core::DefKey<Def>> keys,
                   std::map<std::string, Def>& dst);
  void External(const Node& v, const std::string& p, bool& external, std::string& name);
  void Resolve();
  void Links();
  core::NetworkDef DefaultNetwork() const;

  // ---------- x-podcd: lifecycle hooks (hooks.cpp)
  void PodcdSection(const Node& v);
  void Hooks(const Node& v, const std::string& path);
  void HookServices();

  // ---------- profiles (profiles.cpp)
  // Finds the services COMPOSE_PROFILES leaves disabled; refuses an enabled one that needs one.
  void FindDisabled();
  void DropDisabled();

  // ---------- services (service.cpp)
  void ServiceDef(const std::string& name, const Node& n, const std::string& path);
  void ServiceKey(const core::ServiceKey& row, const Node& v, const std::string& p, ServiceParse& sp);
  void FinishService(const Node& n, const std::string& path, ServiceParse& sp);
  void Restart(const Node& v, const std::string& p, std::string& restart);
  void PullPolicy(const Node& v, const std::string& p, std::string& policy);
  void Ports(const Node& v, const std::string& p, core::Service& s);
  static bool ShortPort(std::string text, core::Port& port);
  void HealthcheckDef(const Node& v, const std::string& p, core::Service& s);
  void DependsOnDef(const Node& v, const std::string& p, core::Service& s);
  std::vector<std::string> Caps(const Node& v, const std::string& p);
  void ExtraHosts(const Node& v, const std::string& p, std::vector<std::string>& hosts);
  void LoggingDef(const Node& v, const std::string& p, core::Service& s);
  void ResourcesDef(const Node& v, const std::string& p, core::Resources& r, bool limits);
  void DeployDef(const Node& v, const std::string& p, core::Service& s);
  void Ulimits(const Node& v, const std::string& p, core::Service& s);
  void Devices(const Node& v, const std::string& p, core::Service& s);

  // ---------- build (build.cpp)
  void BuildDef(const Node& v, const std::string& p, core::Service& s);
  void BuildContext(const Node& v, const std::string& p, core::Service& s);

  // ---------- volumes (volumes.cpp)
  void Volumes(const Node& v, const std::string& p, core::Service& s);
  bool ShortVolume(const Node& item, const std::string& q, const std::string& text, core::Mount& m);
  bool LongVolume(const Node& item, const std::string& q, core::Mount& m);
  void BindOptions(const Node& v, const std::string& r, core::Mount& m);
  void VolumeOptions(const Node& v, const std::string& r, core::Mount& m);
  void TmpfsOptions(const Node& v, const std::string& r, core::Mount& m);
  bool BindSource(const Node& item, const std::string& q, core::Mount& m, core::Service& s);

  // ---------- networks (networks.cpp)
  void ServiceNetworks(const Node& v, const std::string& p, core::Service& s);
  void IpamDef(const Node& v, const std::string& p, core::Ipam& ipam);
  core::IpamPool IpamPool(const Node& item, const std::string& r);
  void IpamInside(const Node& item, const std::string& r, const core::IpamPool& pool,
                  const ip::Network& subnet);
  // Once every network and service is read: each fixed address inside a subnet of its network.
  void CheckAddresses();

  // ---------- configs and secrets (file_objects.cpp)
  void TopFileObjects(const Node& n, const std::string& what, std::map<std::string, core::FileObjectDef>& dst,
                      core::FileKind kind);
  std::vector<core::FileObjectRef> FileObjectRefs(const Node& v, const std::string& p,
                                                  const std::string& what);

  const StackDir& stack_;
  const LoadOptions& opt_;
  fs::path repo_, secrets_, dir_;
  std::string file_;
  std::uintmax_t budget_ = 0;
  std::size_t value_budget_ = kMaxStackValueBytes;  // the bytes of values still allowed
  bool value_budget_spent_ = false;
  Lookup vars_;
  std::set<std::string> from_env_;
  core::Stack out_;
  LoadErrors errors_;
  std::vector<Ref> service_refs_, network_refs_, volume_refs_, object_refs_;
  // Where each ipam pool and each fixed address was written, for CheckAddresses' errors.
  std::map<std::string, tree::Mark> address_marks_;
  std::set<std::string> disabled_;  // services whose profiles are all inactive
  std::map<std::string, tree::Mark> marks_;
  // The stack's files (sources.cpp).
  std::vector<SourceFile> files_;
  std::vector<tree::NodePtr> roots_;  // each file's parsed tree, by index
  std::size_t loads_ = 0;
  std::uintmax_t loaded_bytes_ = 0;
  std::map<std::pair<int, std::string>, Extended> extended_;
  std::map<std::string, std::set<int>> shapes_;  // service -> files_ that shaped it
  TreeMerger merger_{tree::kMaxNodes};
};

}  // namespace podcd::compose
