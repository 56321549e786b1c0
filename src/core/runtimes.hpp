// Which OCI runtimes a service's `runtime` may name, and where that list came from (the
// refusal names both). Pure: the caller asks the host's Podman (or does not) and hands the
// answer in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::core {

// The runtime names podcd accepts when neither the configuration nor a Podman says: those of
// containers.conf's [engine.runtimes] in Podman 4 and 5. Offline `check-config` uses them.
inline constexpr std::string_view kBuiltinRuntimes[] = {"runc",  "crun",  "crun-wasm", "kata",
                                                        "runsc", "youki", "krun"};

// What the host's Podman answered about its runtimes.
struct HostRuntimes {
  std::string default_runtime;     // the one a container gets without `runtime` ("runc")
  std::vector<std::string> known;  // every name its containers.conf knows, when it lists them
  bool listed = false;             // `known` is the whole list (else only the default is known)
};

struct AllowedRuntimes {
  std::vector<std::string> names;  // in the order they are shown
  std::string source;              // where the list came from, said in a refusal
  bool operator==(const AllowedRuntimes&) const = default;
};

// `configured`: policy.allowed_runtimes (empty: the key is not set). A set key wins; else the
// host's answer; a host that names only its default runtime adds it to the built-in list; no
// answer at all (`host` empty) leaves the built-in list, and `unasked` says why ("no Podman
// was asked", "the host's Podman did not answer: ...").
AllowedRuntimes DecideAllowedRuntimes(const std::vector<std::string>& configured,
                                      const std::optional<HostRuntimes>& host, std::string_view unasked);

}  // namespace podcd::core
