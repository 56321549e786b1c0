// Reads the stacks of an environment repository: finds each stack's compose file and loads
// it into core::Stack (interpolation, merge keys, env files, path safety, file digests).
// File system only: no network, no Podman, no git.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compose/interpolate.hpp"
#include "core/model.hpp"
#include "util/error.hpp"

namespace podcd::compose {

inline constexpr std::uintmax_t kMaxComposeBytes = 1u << 20;  // compose and env files
// Files and directories walked in one build context or bound directory: its digest reads each.
inline constexpr std::size_t kMaxDirEntries = 100'000;
// Compose file names in the order they are looked for; more than one in a stack is an error.
inline constexpr std::string_view kComposeFileNames[] = {"compose.yaml", "compose.yml", "podman-compose.yml",
                                                         "docker-compose.yml"};
// Override files looked for next to the compose file (compose's names); more than one is an error.
inline constexpr std::string_view kOverrideFileNames[] = {"compose.override.yaml", "compose.override.yml",
                                                          "docker-compose.override.yml",
                                                          "docker-compose.override.yaml"};
// The files one stack may be made of (a hostile fan-out of `include` or `extends` stops here):
// loads of compose files (the same file included twice counts twice), their total size, and
// the depth of include and extends chains.
inline constexpr std::size_t kMaxStackFiles = 64;
inline constexpr std::uintmax_t kMaxStackComposeBytes = 4u << 20;
inline constexpr std::size_t kMaxIncludeDepth = 8;
inline constexpr std::size_t kMaxExtendsDepth = 16;
// Variables of podcd's own environment visible to interpolation unless configured otherwise.
inline const std::vector<std::string> kDefaultEnvAllowList = {"TZ"};

struct StackDir {
  std::string name;                    // the directory name (validated)
  std::filesystem::path dir;           // absolute
  std::filesystem::path compose_file;  // absolute
};

struct Discovery {
  std::vector<StackDir> stacks;  // sorted by name
  // Stacks that cannot even be located (bad name, no or several compose files), by name.
  std::vector<std::pair<std::string, Error>> errors;
};

// Lists <repo_root>/<services_dir>/*/ . A missing services directory is an error.
Expected<Discovery> DiscoverStacks(const std::filesystem::path& repo_root, std::string_view services_dir);

struct LoadOptions {
  std::filesystem::path repo_root;
  std::filesystem::path
      secrets_dir;  // absolute, or relative to repo_root (config default "secrets"); empty: none
  Lookup host_env;  // podcd's allow-listed environment (lowest precedence)
  // Optional: true for repo-relative paths git ignores. Ignored bind sources (data
  // directories) are not hashed: their contents are the container's state, not its spec.
  std::function<bool(std::string_view repo_relative)> is_ignored;
  // Optional: called with every value read from the secrets directory (each env file value,
  // each secrets file's content), whatever fails later, so that the caller masks them
  // (reconcile/desired.cpp registers them with log::AddSecret).
  std::function<void(std::string_view value)> on_secret_value;
  std::uintmax_t max_file_bytes = kMaxComposeBytes;
  std::uintmax_t max_hash_bytes = 256u << 20;  // total bytes hashed for one stack's binds
  std::size_t max_dir_entries = kMaxDirEntries;
};

using LoadErrors = std::vector<Error>;

// Loads one stack. Every error found is returned (each with file:line:col and key path).
std::expected<core::Stack, LoadErrors> LoadStack(const StackDir& stack, const LoadOptions& options);

// The same from compose text already in memory (tests, fuzzer); `stack.compose_file` is
// only used for messages and the repo-relative path. .env files and referenced files are
// still read from `stack.dir`.
std::expected<core::Stack, LoadErrors> LoadStackFromText(std::string_view text, const StackDir& stack,
                                                         const LoadOptions& options);

// Every stack of a repository: discovery, then LoadStack for each. A stack that cannot be
// located or loaded is listed in `invalid` with its errors; the others load regardless.
struct RepoLoad {
  std::vector<core::Stack> stacks;            // sorted by directory name
  std::map<std::string, LoadErrors> invalid;  // directory name -> errors
};
Expected<RepoLoad> LoadRepository(std::string_view services_dir, const LoadOptions& options);

// getenv() restricted to `names`.
Lookup HostEnv(const std::vector<std::string>& names);

// A container path in its clean form, as docker compose writes mount targets (Go's
// path.Clean): "/data/" -> "/data", "/data//x/" -> "/data/x", "/./a/../b" -> "/b".
std::string CleanContainerPath(std::string_view path);

// POSIX-shell-like word splitting for string `command`/`entrypoint` (quotes and
// backslashes only; nothing is expanded or executed).
Expected<std::vector<std::string>> SplitCommand(std::string_view text);

}  // namespace podcd::compose
