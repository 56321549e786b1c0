// ContainerSpec: what podcd asks Podman to create, close to libpod's SpecGenerator (v4.3),
// and its JSON form for POST /libpod/containers/create.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::podman {

struct PortMapping {
  std::string host_ip;          // empty: all addresses
  std::uint16_t host_port = 0;  // 0: a random free port
  std::uint16_t container_port = 0;
  std::uint16_t range = 1;       // number of consecutive ports from both starts
  std::string protocol = "tcp";  // tcp, udp, sctp (comma-separated allowed)
};

struct BindMount {
  std::string source;                // host path
  std::string destination;           // path in the container
  std::vector<std::string> options;  // ro, rw, z, Z, rbind, rprivate, ...
};

struct NamedVolume {
  std::string name;
  std::string destination;
  std::vector<std::string> options;  // ro, rw, nocopy, ...
};

struct TmpfsMount {
  std::string destination;
  std::vector<std::string> options;  // size=64m, mode=1777, ...
};

struct NetworkAttachment {
  NetworkAttachment() = default;
  // The common case (a name and its aliases) stays one brace-list.
  NetworkAttachment(std::string network, std::vector<std::string> network_aliases)
      : name(std::move(network)), aliases(std::move(network_aliases)) {}

  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::string> static_ips;  // compose ipv4_address / ipv6_address
  std::string static_mac;               // compose mac_address
  std::string interface_name;           // "eth0", ...; "" for Podman's choice
};

struct HealthConfig {
  // ["CMD", "arg", ...], ["CMD-SHELL", "command"] or ["NONE"].
  std::vector<std::string> test;
  std::chrono::nanoseconds interval{0};  // 0: Podman's default (30 s)
  std::chrono::nanoseconds timeout{0};   // 0: 30 s (Podman would treat 0 as "no time")
  std::chrono::nanoseconds start_period{0};
  int retries = 0;  // 0: Podman's default (3)
};

struct Rlimit {
  std::string type;  // "nofile", "nproc", ... (an "RLIMIT_" prefix is dropped)
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

struct Resources {
  std::optional<std::int64_t> memory_bytes;  // memory limit
  std::optional<std::int64_t> memory_reservation_bytes;
  std::optional<std::int64_t> memory_swap_bytes;  // memory + swap
  std::optional<std::int64_t> cpu_quota;          // microseconds per period
  std::optional<std::uint64_t> cpu_period;        // microseconds
  std::optional<std::uint64_t> cpu_shares;
  std::optional<std::int64_t> pids_limit;
};

struct LogConfig {
  std::string driver;  // k8s-file, journald, none, passthrough
  std::string path;
  std::optional<std::int64_t> size_bytes;  // k8s-file rotation size (compose max-size)
  // Driver options. Note: "tag" with k8s-file makes every start fail in Podman 4.3.1
  // ("write child: broken pipe": conmon takes a log tag only for journald).
  std::map<std::string, std::string> options;
};

struct ContainerSpec {
  std::string name;
  std::string image;
  std::vector<std::string> command;     // empty: the image's CMD
  std::vector<std::string> entrypoint;  // empty: the image's ENTRYPOINT
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;
  std::vector<PortMapping> ports;
  std::vector<BindMount> binds;
  std::vector<NamedVolume> volumes;
  std::vector<TmpfsMount> tmpfs;
  // The netns mode: "bridge" (default; joins `networks`), "none", "host", "private",
  // "container:<id>" or "ns:<path>".
  std::string network_mode = "bridge";
  std::vector<NetworkAttachment> networks;  // empty with bridge: Podman's default network
  // Other namespaces, "" for Podman's default: pid "host", "private", "container:<id>",
  // "ns:<path>"; ipc also "shareable", "none"; userns also "keep-id", "auto" (with options
  // after a colon, e.g. "keep-id:uid=1000").
  std::string pid_mode;
  std::string ipc_mode;
  std::string userns_mode;
  // Host devices, "host[:container[:permissions]]" as `podman run --device` takes them.
  std::vector<std::string> devices;
  std::string hostname;
  std::string user;                 // "uid[:gid]" or a name from the image's /etc/passwd
  std::vector<std::string> groups;  // supplementary groups (compose group_add)
  std::string work_dir;
  std::string restart_policy;               // "", "no", "always", "on-failure", "unless-stopped"
  std::optional<unsigned> restart_retries;  // only with on-failure
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool privileged = false;
  bool read_only = false;
  // With read_only: writable tmpfs on /run, /tmp and /var/tmp, as `podman run --read-only`
  // gives (its --read-only-tmpfs). Podman 4.3 ignores this field (its CLI adds the mounts
  // itself, so podcd does too: see reconcile/spec_map); later versions also keep /dev writable
  // only when it is set.
  bool read_write_tmpfs = false;
  bool init = false;
  std::optional<int> stop_signal;        // a signal number (see ParseSignal)
  std::optional<unsigned> stop_timeout;  // seconds between the stop signal and SIGKILL
  std::vector<std::string> extra_hosts;  // "name:ip"
  std::optional<LogConfig> log;
  std::vector<std::string> dns_servers;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_options;
  std::map<std::string, std::string> sysctls;
  // When any is set, a missing nofile or nproc is sent as this process's own limit (Podman
  // would otherwise raise it to 1048576 and fail where the hard limit is lower). Inside a
  // container of the same Podman that equals Podman's default; elsewhere set both.
  std::vector<Rlimit> ulimits;
  Resources resources;
  std::optional<std::int64_t> shm_size_bytes;
  std::vector<std::string> selinux_opts;        // e.g. "disable", "type:spc_t"
  std::optional<std::string> seccomp_profile;   // path, or "unconfined"
  std::optional<std::string> apparmor_profile;  // name, or "unconfined"
  bool no_new_privileges = false;
  bool stdin_open = false;
  bool terminal = false;
  std::string oci_runtime;  // "" for containers.conf's default
};

// The SpecGenerator JSON libpod 4.3 reads. Field names follow pkg/specgen/specgen.go;
// Podman ignores unknown names silently, so tests/integration/podman checks each one.
std::string ToSpecGeneratorJson(const ContainerSpec& spec);

// "SIGTERM", "TERM", "sigint", "15" -> the signal number; nullopt if unknown.
std::optional<int> ParseSignal(std::string_view text);

}  // namespace podcd::podman
