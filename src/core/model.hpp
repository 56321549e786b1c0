// The typed desired state of a compose stack: plain values that the policy check, the
// fingerprint, Plan() and the Podman spec mapping read. No YAML, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::core {

// Durations are kept in nanoseconds, exactly as compose (Go) parses them.
using Nanos = std::chrono::nanoseconds;

struct Build {
  std::string context;      // as written (relative to the stack directory)
  std::string dockerfile;   // relative to the context; the loader fills in Containerfile or Dockerfile
  std::string context_key;  // key into Stack::files (its digest covers every file of the context)
  std::string context_dir;  // absolute path of the context directory
  std::map<std::string, std::string> args;
  std::string target;
  std::map<std::string, std::string> labels;
};

// A port or a port range; start == end for a single port; start == 0 means "not given".
struct PortRange {
  std::uint16_t start = 0;
  std::uint16_t end = 0;
  bool operator==(const PortRange&) const = default;
};

struct Port {
  std::string host_ip;  // empty: all addresses
  PortRange published;  // start == 0: a random host port
  PortRange target;
  std::string protocol = "tcp";  // tcp | udp | sctp
  std::string mode;              // long syntax only: "host" | "ingress" | ""
  std::string name;              // long syntax only
  std::string app_protocol;
  bool operator==(const Port&) const = default;
};

enum class MountType { kVolume, kBind, kTmpfs };

struct Mount {
  MountType type = MountType::kVolume;
  // kVolume: the volume's key in the top-level volumes (empty: anonymous volume).
  // kBind: the absolute host path (relative sources resolved against the stack directory).
  std::string source;
  // kBind only: the repo-relative path when the source lies inside the repository, else empty.
  std::string repo_path;
  std::string target;
  bool read_only = false;
  std::string selinux;      // "", "z" (shared) or "Z" (private)
  bool chown = false;       // "U": chown the source to the container's user
  std::string propagation;  // bind: "", shared, rshared, slave, rslave, private, rprivate
  bool create_host_path = true;
  bool nocopy = false;  // volume: do not copy image content into a new volume
  std::string subpath;
  std::int64_t tmpfs_size = 0;              // bytes; 0: Podman's default
  std::optional<std::uint32_t> tmpfs_mode;  // octal permission bits
  bool operator==(const Mount&) const = default;
};

struct ServiceNetwork {
  std::vector<std::string> aliases;  // sorted, unique (links of other services add theirs)
  std::string ipv4_address;          // inside a subnet of the network's ipam (the loader checks)
  std::string ipv6_address;
  std::optional<std::int64_t> priority;     // the highest gets eth0 (compose connects it first)
  std::string mac_address;                  // "aa:bb:cc:dd:ee:ff", lower case
  std::vector<std::string> link_local_ips;  // parsed and fingerprinted; Podman has no such setting
  bool operator==(const ServiceNetwork&) const = default;
};

struct Healthcheck {
  // ["NONE"] when disabled; ["CMD", ...] or ["CMD-SHELL", "..."] otherwise.
  std::vector<std::string> test;
  Nanos interval{0};  // 0: Podman's default
  Nanos timeout{0};
  Nanos start_period{0};
  Nanos start_interval{0};
  std::int64_t retries = 0;  // 0: Podman's default
  bool disable = false;
  bool operator==(const Healthcheck&) const = default;
};

struct DependsOn {
  std::string condition = "service_started";  // | service_healthy | service_completed_successfully
  bool restart = false;
  bool required = true;
  bool operator==(const DependsOn&) const = default;
};

struct Logging {
  std::string driver;
  std::map<std::string, std::string> options;
  bool operator==(const Logging&) const = default;
};

struct Ulimit {
  std::int64_t soft = 0;
  std::int64_t hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct Resources {
  std::int64_t nano_cpus = 0;  // 1.5 cpus = 1'500'000'000; 0: unlimited
  std::int64_t memory = 0;     // bytes; 0: unlimited
  std::int64_t pids = 0;       // 0: unlimited
  bool operator==(const Resources&) const = default;
};

struct Deploy {
  Resources limits;
  Resources reservations;
  bool operator==(const Deploy&) const = default;
};

struct Device {
  std::string host_path;
  std::string container_path;  // empty: same as host_path
  std::string permissions;     // empty: "rwm"
  bool operator==(const Device&) const = default;
};

// A service's use of a top-level config or secret.
struct FileObjectRef {
  std::string source;  // key in the top-level configs/secrets
  std::string target;  // empty: compose's default (/<source> or /run/secrets/<source>)
  std::string uid;
  std::string gid;
  std::optional<std::uint32_t> mode;
  bool operator==(const FileObjectRef&) const = default;
};

struct Service {
  std::string name;
  std::string image;
  std::optional<Build> build;
  std::optional<std::vector<std::string>> command;     // nullopt: the image's
  std::optional<std::vector<std::string>> entrypoint;  // nullopt: the image's; []: cleared
  // env_file entries merged in order, then `environment` on top (compose's precedence).
  std::map<std::string, std::string> environment;
  std::vector<Port> ports;
  std::vector<std::string> expose;  // "80", "80/udp", "8000-8010/tcp" as written
  std::vector<Mount> volumes;
  // Empty when network_mode is set; otherwise at least the stack's "default" network.
  std::map<std::string, ServiceNetwork> networks;
  std::vector<std::string> links;  // "service" or "service:alias", as written
  std::map<std::string, std::string> labels;
  std::string restart = "no";              // no | always | on-failure[:N] | unless-stopped
  std::optional<Healthcheck> healthcheck;  // nullopt: the image's
  std::map<std::string, DependsOn> depends_on;
  std::string user;
  std::string working_dir;
  std::string hostname;
  std::string domainname;
  std::vector<std::string> cap_add;   // upper case, without the CAP_ prefix, sorted
  std::vector<std::string> cap_drop;  // likewise
  bool privileged = false;
  bool read_only = false;
  std::vector<std::string> tmpfs;  // "/path" or "/path:options", as written
  std::optional<bool> init;
  std::optional<Nanos> stop_grace_period;
  std::string stop_signal;
  std::vector<std::string> extra_hosts;  // "host:ip", as normalised from list or map
  std::optional<Logging> logging;
  std::vector<std::string> profiles;
  std::string container_name;
  std::string network_mode;    // "" | bridge | none | host | service:<n> | container:<n> | ...
  std::int64_t shm_size = 0;   // bytes
  std::int64_t mem_limit = 0;  // bytes
  std::int64_t mem_reservation = 0;
  std::int64_t memswap_limit = 0;  // bytes; -1: unlimited swap
  std::int64_t nano_cpus = 0;      // `cpus`
  std::int64_t cpu_shares = 0;
  std::int64_t pids_limit = 0;
  Deploy deploy;
  std::map<std::string, Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  bool stdin_open = false;
  bool tty = false;
  std::vector<std::string> security_opt;
  std::vector<std::string> group_add;
  std::string pull_policy;  // "" (compose default: missing) | always | never | missing | build | newer
  std::string platform;
  std::vector<Device> devices;
  std::string pid;
  std::string ipc;
  std::string userns_mode;
  std::vector<FileObjectRef> configs;
  std::vector<FileObjectRef> secrets;
  std::string runtime;  // the OCI runtime ("" for Podman's default); the policy lists the allowed
  // Keys into Stack::files of every repository file this service references.
  std::vector<std::string> files;

  // The services whose container this one joins a namespace of (network_mode, pid or ipc
  // set to service:<name>), each once: they must run first, and replacing one replaces this.
  [[nodiscard]] std::vector<std::string> NamespaceServices() const;
};

// One `ipam.config` entry of a network: a subnet, where addresses are leased, its gateway.
struct IpamPool {
  std::string subnet;    // CIDR, as written
  std::string ip_range;  // CIDR inside the subnet; "" for all of it
  std::string gateway;   // inside the subnet; "" for Podman's choice (the first address)
  std::map<std::string, std::string> aux_addresses;  // name -> address inside the subnet
  bool operator==(const IpamPool&) const = default;
};

struct Ipam {
  std::string driver;  // "" or "default": Podman's host-local; "dhcp", "none"
  std::vector<IpamPool> config;
  bool operator==(const Ipam&) const = default;
  [[nodiscard]] bool Empty() const { return driver.empty() && config.empty(); }
};

struct NetworkDef {
  std::string name;  // the real network name (default: <project>_<key>)
  std::string driver;
  std::map<std::string, std::string> driver_opts;
  bool external = false;
  bool internal = false;
  bool enable_ipv6 = false;
  std::map<std::string, std::string> labels;
  Ipam ipam;
  bool operator==(const NetworkDef&) const = default;
};

struct VolumeDef {
  std::string name;  // the real volume name (default: <project>_<key>)
  std::string driver;
  std::map<std::string, std::string> driver_opts;
  bool external = false;
  std::map<std::string, std::string> labels;
  bool operator==(const VolumeDef&) const = default;
};

// Top-level configs and secrets: file-based (or external, created by hand).
struct FileObjectDef {
  std::string file;       // key into Stack::files; empty when external
  std::string host_path;  // the resolved absolute path of `file`
  bool external = false;
  std::string name;
  bool operator==(const FileObjectDef&) const = default;
};

// kCompose: a compose file other than the stack's own (an override, included or extended file),
// in the fingerprint of the services it shapes.
enum class FileKind { kEnvFile, kBindFile, kBindDir, kConfig, kSecret, kBuildContext, kMissing, kCompose };
std::string_view ToString(FileKind kind);

struct ReferencedFile {
  // Repo-relative path ("services/web/nginx.conf"), or "<secrets>/web.env" for a file in
  // the configured secrets directory outside the repository.
  std::string path;
  FileKind kind = FileKind::kBindFile;
  std::string sha256;  // of the bytes; of the sorted (name, type, digest) list for a directory
  bool operator==(const ReferencedFile&) const = default;
};

// A lifecycle hook (x-podcd.hooks, docs/hooks.md): a command run as a one-shot container of
// `service`'s definition, or on podcd's own host with `host` (the stack needs host_hooks).
struct Hook {
  std::string name;  // check, prepare, pre_deploy or post_deploy (kHookNames)
  std::string service;
  std::vector<std::string> command;
  Nanos timeout = std::chrono::minutes(2);
  bool host = false;
  bool operator==(const Hook&) const = default;
};
// The hook names, in the order a stack's apply runs them.
inline constexpr std::string_view kHookNames[] = {"check", "prepare", "pre_deploy", "post_deploy"};

struct Stack {
  std::string name;               // the compose project name: `name:` or the directory name
  std::string dir;                // the stack directory name under the services directory
  std::string compose_file;       // repo-relative path of the compose file
  std::vector<Service> services;  // sorted by name; only the enabled ones (see `disabled`)
  // Services the compose file defines but whose `profiles` are all inactive (COMPOSE_PROFILES):
  // validated, not deployed; a container of one is removed like that of a deleted service.
  std::vector<std::string> disabled;  // sorted
  std::map<std::string, NetworkDef> networks;
  std::map<std::string, VolumeDef> volumes;
  std::map<std::string, FileObjectDef> configs;
  std::map<std::string, FileObjectDef> secrets;
  std::map<std::string, ReferencedFile> files;  // by path
  std::vector<std::string> warnings;            // e.g. unset variables interpolated as ""
  // What podcd accepted and does not act on (a compose key without meaning on a server), one
  // line each naming the key: the plan shows them, so nothing is ignored silently.
  std::vector<std::string> notes;
  std::vector<Hook> hooks;  // x-podcd.hooks, in kHookNames' order

  const Service* Find(std::string_view service) const;
};

}  // namespace podcd::core
