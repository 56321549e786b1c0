#include "podman/spec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <sys/resource.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <utility>

namespace podcd::podman {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void StrArray(Writer& w, std::string_view key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  for (const auto& v : values) Str(w, v);
  w.EndArray();
}

void StrMap(Writer& w, std::string_view key, const std::map<std::string, std::string>& values) {
  if (values.empty()) return;
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartObject();
  for (const auto& [k, v] : values) {
    Str(w, k);
    Str(w, v);
  }
  w.EndObject();
}

void StrField(Writer& w, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  Str(w, value);
}

void BoolField(Writer& w, std::string_view key, bool value) {
  if (!value) return;
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Bool(true);
}

// Podman prepends "RLIMIT_" itself ("RLIMIT_RLIMIT_NOFILE" fails in runc): send "nofile".
std::string RlimitType(std::string_view type) {
  std::string out;
  for (char c : type) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out.starts_with("rlimit_")) out.erase(0, 7);
  return out;
}

// A namespace as SpecGenerator's Namespace: {"nsmode": ..., "value": ...}. "container:<id>",
// "ns:<path>" and "<mode>:<options>" (keep-id:uid=1000) carry a value.
void WriteNs(Writer& w, const char* key, std::string_view mode) {
  w.Key(key);
  w.StartObject();
  auto colon = mode.find(':');
  std::string_view nsmode = mode.substr(0, colon);
  if (nsmode == "ns") nsmode = "path";
  w.Key("nsmode");
  Str(w, nsmode);
  if (colon != std::string_view::npos) {
    w.Key("value");
    Str(w, mode.substr(colon + 1));
  }
  w.EndObject();
}

constexpr std::chrono::nanoseconds kDefaultHealthTimeout = std::chrono::seconds(30);
constexpr std::chrono::nanoseconds kDefaultHealthInterval = std::chrono::seconds(30);

void WritePorts(Writer& w, const std::vector<PortMapping>& ports) {
  if (ports.empty()) return;
  w.Key("portmappings");
  w.StartArray();
  for (const auto& p : ports) {
    w.StartObject();
    StrField(w, "host_ip", p.host_ip);
    w.Key("container_port");
    w.Uint(p.container_port);
    w.Key("host_port");
    w.Uint(p.host_port);
    w.Key("range");
    w.Uint(p.range == 0 ? 1u : p.range);
    w.Key("protocol");
    Str(w, p.protocol.empty() ? std::string_view("tcp") : std::string_view(p.protocol));
    w.EndObject();
  }
  w.EndArray();
}

// One entry of "mounts": a bind's source is a host path, a tmpfs's is "tmpfs".
void WriteMount(Writer& w, std::string_view type, std::string_view source, std::string_view destination,
                const std::vector<std::string>& options) {
  w.StartObject();
  w.Key("destination");
  Str(w, destination);
  w.Key("type");
  Str(w, type);
  w.Key("source");
  Str(w, source);
  StrArray(w, "options", options);
  w.EndObject();
}

void WriteMounts(Writer& w, const ContainerSpec& spec) {
  if (spec.binds.empty() && spec.tmpfs.empty()) return;
  w.Key("mounts");
  w.StartArray();
  for (const auto& b : spec.binds) WriteMount(w, "bind", b.source, b.destination, b.options);
  for (const auto& t : spec.tmpfs) WriteMount(w, "tmpfs", "tmpfs", t.destination, t.options);
  w.EndArray();
}

void WriteVolumes(Writer& w, const std::vector<NamedVolume>& volumes) {
  if (volumes.empty()) return;
  // NamedVolume has no json tags in libpod: its keys are the Go field names.
  w.Key("volumes");
  w.StartArray();
  for (const auto& v : volumes) {
    w.StartObject();
    w.Key("Name");
    Str(w, v.name);
    w.Key("Dest");
    Str(w, v.destination);
    w.Key("Options");
    w.StartArray();
    for (const auto& o : v.options) Str(w, o);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void WriteNamespaces(Writer& w, const ContainerSpec& spec) {
  WriteNs(w, "netns", spec.network_mode.empty() ? std::string_view("bridge") : spec.network_mode);
  if (!spec.pid_mode.empty()) WriteNs(w, "pidns", spec.pid_mode);
  if (!spec.ipc_mode.empty()) WriteNs(w, "ipcns", spec.ipc_mode);
  if (!spec.userns_mode.empty()) WriteNs(w, "userns", spec.userns_mode);
}

void WriteDevices(Writer& w, const std::vector<std::string>& devices) {
  if (devices.empty()) return;
  w.Key("devices");
  w.StartArray();
  for (const auto& d : devices) {
    w.StartObject();
    w.Key("path");
    Str(w, d);
    w.EndObject();
  }
  w.EndArray();
}

void WriteNetworks(Writer& w, const std::vector<NetworkAttachment>& networks) {
  if (networks.empty()) return;
  // "Networks" (capitalised) is the real key: the Go field has no json tag.
  w.Key("Networks");
  w.StartObject();
  for (const auto& n : networks) {
    Str(w, n.name);
    w.StartObject();
    StrArray(w, "aliases", n.aliases);
    StrArray(w, "static_ips", n.static_ips);
    StrField(w, "static_mac", n.static_mac);
    StrField(w, "interface_name", n.interface_name);
    w.EndObject();
  }
  w.EndObject();
}

void WriteHealthcheck(Writer& w, const std::optional<HealthConfig>& healthcheck) {
  if (!healthcheck || healthcheck->test.empty()) return;
  const auto& h = *healthcheck;
  w.Key("healthconfig");
  w.StartObject();
  StrArray(w, "Test", h.test);
  w.Key("Interval");
  w.Int64((h.interval.count() > 0 ? h.interval : kDefaultHealthInterval).count());
  // A zero timeout makes every check fail at once ("exceeded timeout of 0s").
  w.Key("Timeout");
  w.Int64((h.timeout.count() > 0 ? h.timeout : kDefaultHealthTimeout).count());
  w.Key("StartPeriod");
  w.Int64(h.start_period.count());
  w.Key("Retries");
  w.Int(h.retries > 0 ? h.retries : 3);
  w.EndObject();
}

void WriteLog(Writer& w, const std::optional<LogConfig>& log) {
  if (!log || log->driver.empty()) return;
  w.Key("log_configuration");
  w.StartObject();
  StrField(w, "driver", log->driver);
  StrField(w, "path", log->path);
  if (log->size_bytes) {
    w.Key("size");
    w.Int64(*log->size_bytes);
  }
  StrMap(w, "options", log->options);
  w.EndObject();
}

// As soon as any rlimit is given, Podman sets nofile and nproc to 1048576 unless they are
// given too, and runc fails ("setrlimit: operation not permitted") wherever the hard limit
// is lower. Fill the missing ones from this process's own limits: podcd normally runs as a
// container of the same Podman, so these are Podman's default_ulimits.
std::vector<Rlimit> WithOwnLimits(std::vector<Rlimit> ulimits) {
  for (const auto& [name, resource] : {std::pair<const char*, int>{"nofile", RLIMIT_NOFILE},
                                       std::pair<const char*, int>{"nproc", RLIMIT_NPROC}}) {
    const bool given = std::any_of(ulimits.begin(), ulimits.end(),
                                   [&](const Rlimit& r) { return RlimitType(r.type) == name; });
    rlimit current{};
    if (!given && getrlimit(resource, &current) == 0) {
      ulimits.push_back({name, current.rlim_cur, current.rlim_max});
    }
  }
  return ulimits;
}

void WriteUlimits(Writer& w, const std::vector<Rlimit>& given) {
  if (given.empty()) return;
  w.Key("r_limits");
  w.StartArray();
  for (const auto& r : WithOwnLimits(given)) {
    w.StartObject();
    w.Key("type");
    Str(w, RlimitType(r.type));
    w.Key("hard");
    w.Uint64(r.hard);
    w.Key("soft");
    w.Uint64(r.soft);
    w.EndObject();
  }
  w.EndArray();
}

template <typename T>
void OptionalInt64(Writer& w, const char* key, const std::optional<T>& value) {
  if (!value) return;
  w.Key(key);
  w.Int64(*value);
}

template <typename T>
void OptionalUint64(Writer& w, const char* key, const std::optional<T>& value) {
  if (!value) return;
  w.Key(key);
  w.Uint64(*value);
}

void WriteResources(Writer& w, const Resources& res) {
  const bool memory = res.memory_bytes || res.memory_reservation_bytes || res.memory_swap_bytes;
  const bool cpu = res.cpu_quota || res.cpu_period || res.cpu_shares;
  if (!memory && !cpu && !res.pids_limit) return;
  w.Key("resource_limits");
  w.StartObject();
  if (memory) {
    w.Key("memory");
    w.StartObject();
    OptionalInt64(w, "limit", res.memory_bytes);
    OptionalInt64(w, "reservation", res.memory_reservation_bytes);
    OptionalInt64(w, "swap", res.memory_swap_bytes);
    w.EndObject();
  }
  if (cpu) {
    w.Key("cpu");
    w.StartObject();
    OptionalUint64(w, "shares", res.cpu_shares);
    OptionalInt64(w, "quota", res.cpu_quota);
    OptionalUint64(w, "period", res.cpu_period);
    w.EndObject();
  }
  if (res.pids_limit) {
    w.Key("pids");
    w.StartObject();
    OptionalInt64(w, "limit", res.pids_limit);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string ToSpecGeneratorJson(const ContainerSpec& spec) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  StrField(w, "name", spec.name);
  w.Key("image");
  Str(w, spec.image);
  StrArray(w, "command", spec.command);
  StrArray(w, "entrypoint", spec.entrypoint);
  StrMap(w, "env", spec.env);
  StrMap(w, "labels", spec.labels);
  WritePorts(w, spec.ports);
  WriteMounts(w, spec);
  WriteVolumes(w, spec.volumes);
  WriteNamespaces(w, spec);
  WriteDevices(w, spec.devices);
  WriteNetworks(w, spec.networks);
  StrField(w, "hostname", spec.hostname);
  StrField(w, "user", spec.user);
  StrArray(w, "groups", spec.groups);
  StrField(w, "work_dir", spec.work_dir);
  StrField(w, "restart_policy", spec.restart_policy);
  if (spec.restart_retries) {
    w.Key("restart_tries");
    w.Uint(*spec.restart_retries);
  }
  WriteHealthcheck(w, spec.healthcheck);
  StrArray(w, "cap_add", spec.cap_add);
  StrArray(w, "cap_drop", spec.cap_drop);
  BoolField(w, "privileged", spec.privileged);
  BoolField(w, "read_only_filesystem", spec.read_only);
  BoolField(w, "read_write_tmpfs", spec.read_write_tmpfs);
  BoolField(w, "init", spec.init);
  if (spec.stop_signal) {
    w.Key("stop_signal");
    w.Int(*spec.stop_signal);
  }
  if (spec.stop_timeout) {
    w.Key("stop_timeout");
    w.Uint(*spec.stop_timeout);
  }
  StrArray(w, "hostadd", spec.extra_hosts);
  WriteLog(w, spec.log);
  StrArray(w, "dns_server", spec.dns_servers);
  StrArray(w, "dns_search", spec.dns_search);
  StrArray(w, "dns_option", spec.dns_options);
  StrMap(w, "sysctl", spec.sysctls);
  WriteUlimits(w, spec.ulimits);
  WriteResources(w, spec.resources);
  OptionalInt64(w, "shm_size", spec.shm_size_bytes);
  StrArray(w, "selinux_opts", spec.selinux_opts);
  if (spec.seccomp_profile) StrField(w, "seccomp_profile_path", *spec.seccomp_profile);
  if (spec.apparmor_profile) StrField(w, "apparmor_profile", *spec.apparmor_profile);
  BoolField(w, "no_new_privileges", spec.no_new_privileges);
  BoolField(w, "stdin", spec.stdin_open);
  BoolField(w, "terminal", spec.terminal);
  StrField(w, "oci_runtime", spec.oci_runtime);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<int> ParseSignal(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, int>, 27> kSignals{{
      {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
      {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
      {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
      {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
  }};
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 2) return std::nullopt;
    int n = 0;
    for (char c : text) n = n * 10 + (c - '0');
    if (n < 1 || n > 64) return std::nullopt;
    return n;
  }
  std::string upper;
  for (char c : text) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& [n, v] : kSignals) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace podcd::podman
