#include "core/compose_keys.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <tuple>
#include <type_traits>

namespace podcd::core {
namespace {

// A tiny JSON-like writer: strings quoted and escaped, so values cannot collide. It appends
// in place: canonicalisation runs for every service on every plan.
void AppendQ(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}
std::string Q(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendQ(out, s);
  return out;
}
std::string B(bool b) { return b ? "true" : "false"; }
std::string I(std::int64_t v) { return std::to_string(v); }
std::string L(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendQ(out, v[i]);
  }
  out += ']';
  return out;
}
std::string M(const std::map<std::string, std::string>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ',';
    AppendQ(out, k);
    out += ':';
    AppendQ(out, v);
  }
  out += '}';
  return out;
}
std::string Obj(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) out += ',';
    AppendQ(out, k);
    out += ':';
    out += v;
  }
  out += '}';
  return out;
}
// Rows are visited in key order, so most fields land at the end of the map: hinted inserts.
void Put(CanonicalFields& f, std::string key, std::string value) {
  f.insert_or_assign(f.end(), std::move(key), std::move(value));
}
std::string Range(const PortRange& r) { return "[" + I(r.start) + "," + I(r.end) + "]"; }
std::string MountTypeName(MountType t) {
  switch (t) {
    case MountType::kVolume: return "volume";
    case MountType::kBind: return "bind";
    case MountType::kTmpfs: return "tmpfs";
  }
  return "?";
}
std::string Res(const Resources& r) {
  return Obj({{"cpus", I(r.nano_cpus)}, {"memory", I(r.memory)}, {"pids", I(r.pids)}});
}

// ---------- one encoding per model type
std::string Encode(const std::string& v) { return Q(v); }
std::string Encode(bool v) { return B(v); }
std::string Encode(std::int64_t v) { return I(v); }
std::string Encode(const std::optional<bool>& v) { return v ? B(*v) : "null"; }
std::string Encode(const std::optional<Nanos>& v) { return v ? I(v->count()) : "null"; }
std::string Encode(const std::vector<std::string>& v) { return L(v); }
std::string Encode(const std::optional<std::vector<std::string>>& v) { return v ? L(*v) : "null"; }
std::string Encode(const std::map<std::string, std::string>& v) { return M(v); }
// An ipam left out encodes as nothing, and DefObject then leaves the member out: a network
// defined before podcd read `ipam` keeps its canonical object, and its services their
// fingerprints.
std::string Encode(const Ipam& ipam) {
  if (ipam.Empty()) return "";
  std::string pools = "[";
  for (std::size_t i = 0; i < ipam.config.size(); ++i) {
    const auto& p = ipam.config[i];
    pools += (i ? "," : "") + Obj({{"aux_addresses", M(p.aux_addresses)},
                                   {"gateway", Q(p.gateway)},
                                   {"ip_range", Q(p.ip_range)},
                                   {"subnet", Q(p.subnet)}});
  }
  pools += ']';
  return Obj({{"config", pools}, {"driver", Q(ipam.driver)}});
}
std::string Encode(const Deploy& d) {
  return Obj({{"limits", Res(d.limits)}, {"reservations", Res(d.reservations)}});
}
std::string Encode(const std::optional<Build>& b) {
  if (!b) return "null";
  return Obj({{"args", M(b->args)},
              {"context", Q(b->context)},
              {"dockerfile", Q(b->dockerfile)},
              {"labels", M(b->labels)},
              {"target", Q(b->target)}});
}
std::string Encode(const std::optional<Healthcheck>& h) {
  if (!h) return "null";
  return Obj({{"disable", B(h->disable)},
              {"interval", I(h->interval.count())},
              {"retries", I(h->retries)},
              {"start_interval", I(h->start_interval.count())},
              {"start_period", I(h->start_period.count())},
              {"test", L(h->test)},
              {"timeout", I(h->timeout.count())}});
}
std::string Encode(const std::optional<Logging>& l) {
  return l ? Obj({{"driver", Q(l->driver)}, {"options", M(l->options)}}) : "null";
}
std::string Encode(const std::vector<Port>& ports) {
  std::string out = "[";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto& p = ports[i];
    out += (i ? "," : "") + Obj({{"app_protocol", Q(p.app_protocol)},
                                 {"host_ip", Q(p.host_ip)},
                                 {"mode", Q(p.mode)},
                                 {"name", Q(p.name)},
                                 {"protocol", Q(p.protocol)},
                                 {"published", Range(p.published)},
                                 {"target", Range(p.target)}});
  }
  return out + "]";
}
std::string Encode(const Mount& m) {
  return Obj({{"chown", B(m.chown)},
              {"create_host_path", B(m.create_host_path)},
              {"nocopy", B(m.nocopy)},
              {"propagation", Q(m.propagation)},
              {"read_only", B(m.read_only)},
              {"repo_path", Q(m.repo_path)},
              {"selinux", Q(m.selinux)},
              {"source", Q(m.source)},
              {"subpath", Q(m.subpath)},
              {"target", Q(m.target)},
              {"tmpfs_mode", m.tmpfs_mode ? I(*m.tmpfs_mode) : "null"},
              {"tmpfs_size", I(m.tmpfs_size)},
              {"type", Q(MountTypeName(m.type))}});
}
std::string Encode(const std::map<std::string, DependsOn>& deps) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, d] : deps) {
    out += (first ? "" : ",") + Q(k) + ":" +
           Obj({{"condition", Q(d.condition)}, {"required", B(d.required)}, {"restart", B(d.restart)}});
    first = false;
  }
  return out + "}";
}
std::string Encode(const std::map<std::string, Ulimit>& ulimits) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, u] : ulimits) {
    out += (first ? "" : ",") + Q(k) + ":" + Obj({{"hard", I(u.hard)}, {"soft", I(u.soft)}});
    first = false;
  }
  return out + "}";
}
std::string Encode(const std::vector<Device>& devices) {
  std::string out = "[";
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    out += (i ? "," : "") + Obj({{"container_path", Q(d.container_path)},
                                 {"host_path", Q(d.host_path)},
                                 {"permissions", Q(d.permissions)}});
  }
  return out + "]";
}
std::string Encode(const FileObjectRef& r) {
  return Obj({{"gid", Q(r.gid)},
              {"mode", r.mode ? I(*r.mode) : "null"},
              {"source", Q(r.source)},
              {"target", Q(r.target)},
              {"uid", Q(r.uid)}});
}

template <class Def>
std::string DefObject(std::span<const DefKey<Def>> keys, const Def& d) {
  std::string out = "{";
  for (const auto& k : keys) {
    std::string value = std::visit([&](auto m) { return Encode(d.*m); }, k.field);
    if (value.empty()) continue;  // a member added later, left out while unset (Encode(Ipam))
    if (out.size() > 1) out += ',';
    AppendQ(out, k.key);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

// ---------- how a row enters the canonical form
// The common case: `key` -> the field's encoding.
template <auto kField>
void Field(const Stack&, const Service& s, std::string_view key, CanonicalFields& f) {
  Put(f, std::string(key), Encode(s.*kField));
}

// Maps whose values may be secrets or change one at a time: a count under `key`, then one
// entry per map key, so a change names the variable or label.
template <auto kField>
void PerKey(const Stack&, const Service& s, std::string_view key, CanonicalFields& f) {
  const auto& m = s.*kField;
  Put(f, std::string(key), "{" + std::to_string(m.size()) + "}");
  for (const auto& [k, v] : m) Put(f, std::string(key) + "." + k, Q(v));
}

// The mounts, and the definition of each named volume mounted.
void Volumes(const Stack& stack, const Service& s, std::string_view key, CanonicalFields& f) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.volumes.size(); ++i) {
    const auto& m = s.volumes[i];
    out += (i ? "," : "") + Encode(m);
    if (m.type == MountType::kVolume && !m.source.empty()) {
      if (auto v = stack.volumes.find(m.source); v != stack.volumes.end()) {
        Put(f, "volume " + m.source, CanonicalDef(v->second));
      }
    }
  }
  out += ']';
  Put(f, std::string(key), std::move(out));
}

// Per network the service's settings and the network's definition, then the list of names.
void Networks(const Stack& stack, const Service& s, std::string_view key, CanonicalFields& f) {
  std::vector<std::string> names;
  for (const auto& [name, n] : s.networks) {
    std::string settings = Obj({{"aliases", L(n.aliases)},
                                {"ipv4_address", Q(n.ipv4_address)},
                                {"ipv6_address", Q(n.ipv6_address)},
                                {"priority", n.priority ? I(*n.priority) : "null"}});
    // Read later than the others: appended only when set, so that a service without them keeps
    // its fingerprint.
    settings.pop_back();
    if (!n.link_local_ips.empty()) settings += ",\"link_local_ips\":" + L(n.link_local_ips);
    if (!n.mac_address.empty()) settings += ",\"mac_address\":" + Q(n.mac_address);
    settings += '}';
    Put(f, std::string(key) + "." + name, std::move(settings));
    if (auto d = stack.networks.find(name); d != stack.networks.end()) {
      Put(f, "network " + name, CanonicalDef(d->second));
    }
    names.push_back(name);
  }
  Put(f, std::string(key), L(names));
}

// The references, and the definition of each config or secret used ("config <key>").
template <auto kRefs, auto kDefs>
void FileObjects(const Stack& stack, const Service& s, std::string_view key, CanonicalFields& f) {
  const auto& refs = s.*kRefs;
  const auto& defs = stack.*kDefs;
  const std::string prefix = key == "configs" ? "config " : "secret ";
  std::string out = "[";
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const auto& r = refs[i];
    out += (i ? "," : "") + Encode(r);
    if (auto d = defs.find(r.source); d != defs.end()) Put(f, prefix + r.source, CanonicalDef(d->second));
  }
  out += ']';
  Put(f, std::string(key), std::move(out));
}

// A key read later than the first canonical forms: absent while unset, so that the services
// that do not use it keep their fingerprints.
template <auto kField>
void FieldIfSet(const Stack&, const Service& s, std::string_view key, CanonicalFields& f) {
  if (!(s.*kField == decltype(s.*kField){})) Put(f, std::string(key), Encode(s.*kField));
}

template <auto kField>
constexpr ServiceField FieldOf() {
  if constexpr (std::is_constructible_v<ServiceField, decltype(kField)>) {
    return kField;
  } else {
    return std::monostate{};
  }
}

// The policy column is a required argument: a row cannot be written without it.
template <auto kField>
constexpr ServiceKey Row(std::string_view key, ParseAs parse, std::string_view spec, KeyPolicy policy,
                         CanonicalizeFn canonicalize = &Field<kField>) {
  return ServiceKey{key, parse, FieldOf<kField>(), canonicalize, spec, policy};
}

using P = ParseAs;
using S = Service;
// Policy classes, one letter each so that every row of the tables stays on one line.
constexpr KeyPolicy H{PolicyClass::kHarmless};   // NOLINT(readability-identifier-naming)
constexpr KeyPolicy F{PolicyClass::kRepoFiles};  // NOLINT(readability-identifier-naming)
constexpr KeyPolicy C(std::string_view rules) { return {PolicyClass::kChecked, rules}; }
constexpr KeyPolicy Ls{PolicyClass::kListed};  // NOLINT(readability-identifier-naming)
// A key with no meaning on a server: accepted, not fingerprinted, named in the plan's notes.
constexpr ServiceKey Ignored(std::string_view key, std::string_view why) {
  return ServiceKey{key, ParseAs::kIgnored, std::monostate{}, nullptr, "", H, why};
}

// The service keys. Each row: the compose key, how the loader reads it into the field, the
// fields of the container create body it reaches (ServiceKey::spec), its policy class (H
// harmless, F repository files, C(rules) checked) and how it enters the canonical form
// (without a fifth argument: the field, encoded by its type). Adding a key:
// see "How to add a compose key" in docs/architecture.md.
// clang-format off
constexpr ServiceKey kServiceKeys[] = {
    Row<&S::image>             ("image",             P::kString, "image job.build", H),
    Row<&S::build>             ("build",             P::kBuild, "image job.build", F),  // context digest: "file <context>"
    Row<&S::command>           ("command",           P::kCommand, "command", H),
    Row<&S::entrypoint>        ("entrypoint",        P::kCommand, "entrypoint", H),
    Row<&S::environment>       ("environment",       P::kEnvironment, "env", H, &PerKey<&S::environment>),
    // Enters as "environment.<name>" (merged under `environment`) and "file <path>".
    ServiceKey{"env_file",                           P::kEnvFile, std::monostate{}, nullptr, "env", F},
    Row<&S::ports>             ("ports",             P::kPorts, "portmappings", H),
    // expose: informational in compose: every port is reachable on the stack's networks.
    Row<&S::expose>            ("expose",            P::kStrictList, "", H).Note("informational: every port is reachable on the stack's networks"),
    Row<&S::volumes>           ("volumes",           P::kVolumes, "volumes mounts", C("host_binds host_binds_rw host_root podman_socket volume_drivers shared_volumes"), &Volumes),    // also "volume <key>"
    Row<&S::networks>          ("networks",          P::kNetworks, "Networks", C("network_drivers"), &Networks),  // also per network
    // links: not given to Podman (services reach each other by name on the stack's networks;
    // the link's alias is not created).
    Row<&S::links>             ("links",             P::kStrictList, "", H).Note("the link's alias becomes a network alias of the target"),
    Row<&S::labels>            ("labels",            P::kMap, "labels", H, &PerKey<&S::labels>),
    Row<&S::restart>           ("restart",           P::kRestart, "restart_policy restart_tries", H),
    Row<&S::healthcheck>       ("healthcheck",       P::kHealthcheck, "healthconfig", H),
    Row<&S::depends_on>        ("depends_on",        P::kDependsOn, "job.depends_on", H),
    Row<&S::user>              ("user",              P::kString, "user", H),
    Row<&S::working_dir>       ("working_dir",       P::kString, "work_dir", H),
    Row<&S::hostname>          ("hostname",          P::kString, "hostname", H),
    // domainname: not given to Podman yet.
    Row<&S::domainname>        ("domainname",        P::kString, "", H).Note("fingerprinted, not given to Podman yet"),
    Row<&S::cap_add>           ("cap_add",           P::kCapabilities, "cap_add", C("capabilities cap_sys_admin")),
    Row<&S::cap_drop>          ("cap_drop",          P::kCapabilities, "cap_drop", H),
    Row<&S::privileged>        ("privileged",        P::kBool, "privileged", C("privileged")),
    Row<&S::read_only>         ("read_only",         P::kBool, "read_only_filesystem read_write_tmpfs mounts", H),
    Row<&S::tmpfs>             ("tmpfs",             P::kList, "mounts", H),
    Row<&S::init>              ("init",              P::kOptionalBool, "init", H),
    Row<&S::stop_grace_period> ("stop_grace_period", P::kDuration, "stop_timeout", H),
    Row<&S::stop_signal>       ("stop_signal",       P::kString, "stop_signal", H),
    Row<&S::extra_hosts>       ("extra_hosts",       P::kExtraHosts, "hostadd", H),
    Row<&S::logging>           ("logging",           P::kLogging, "log_configuration", C("host_binds")),
    // profiles: decides whether the service is deployed at all.
    Row<&S::profiles>          ("profiles",          P::kStrictList, "", H).Note("decides whether the service is deployed (COMPOSE_PROFILES)"),
    Row<&S::container_name>    ("container_name",    P::kString, "name Networks", H),
    Row<&S::network_mode>      ("network_mode",      P::kNetworkMode, "netns Networks", C("host_namespaces join_containers")),
    Row<&S::shm_size>          ("shm_size",          P::kSize, "shm_size", H),
    Row<&S::mem_limit>         ("mem_limit",         P::kSize, "resource_limits", H),
    Row<&S::mem_reservation>   ("mem_reservation",   P::kSize, "resource_limits", H),
    Row<&S::memswap_limit>     ("memswap_limit",     P::kSizeOrUnlimited, "resource_limits", H),
    Row<&S::nano_cpus>         ("cpus",              P::kCpus, "resource_limits", H),
    Row<&S::cpu_shares>        ("cpu_shares",        P::kInt, "resource_limits", H),
    Row<&S::pids_limit>        ("pids_limit",        P::kInt, "resource_limits", H),
    Row<&S::deploy>            ("deploy",            P::kDeploy, "resource_limits", H),
    Row<&S::ulimits>           ("ulimits",           P::kUlimits, "r_limits", H),
    Row<&S::sysctls>           ("sysctls",           P::kMap, "sysctl", C("sysctls")),
    Row<&S::dns>               ("dns",               P::kList, "dns_server", H),
    Row<&S::dns_search>        ("dns_search",        P::kList, "dns_search", H),
    Row<&S::dns_opt>           ("dns_opt",           P::kStrictList, "dns_option", H),
    Row<&S::stdin_open>        ("stdin_open",        P::kBool, "stdin", H),
    Row<&S::tty>               ("tty",               P::kBool, "terminal", H),
    Row<&S::security_opt>      ("security_opt",      P::kStrictList, "no_new_privileges selinux_opts seccomp_profile_path apparmor_profile", C("security_opt unconfined")),
    Row<&S::group_add>         ("group_add",         P::kStrictList, "groups", H),
    Row<&S::pull_policy>       ("pull_policy",       P::kPullPolicy, "image job.build job.pull", H),
    // platform: not given to Podman yet: the host's platform is pulled.
    Row<&S::platform>          ("platform",          P::kString, "", H).Note("fingerprinted, not given to Podman yet: the host's platform is pulled"),
    Row<&S::devices>           ("devices",           P::kDevices, "devices", C("devices")),
    Row<&S::pid>               ("pid",               P::kString, "pidns", C("host_namespaces join_containers")),
    Row<&S::ipc>               ("ipc",               P::kString, "ipcns", C("host_namespaces join_containers")),
    Row<&S::userns_mode>       ("userns_mode",       P::kString, "userns", C("host_namespaces join_containers")),
    Row<&S::configs>           ("configs",           P::kConfigs, "mounts", F, &FileObjects<&S::configs, &Stack::configs>),
    Row<&S::secrets>           ("secrets",           P::kSecrets, "mounts", F, &FileObjects<&S::secrets, &Stack::secrets>),
    Row<&S::runtime>           ("runtime",           P::kString, "oci_runtime", Ls, &FieldIfSet<&S::runtime>).Note("only runtimes policy.allowed_runtimes lists (unset: those the host's Podman knows)"),
    // Compose's client-side keys: they steer `docker compose up` on a workstation, not a container.
    Ignored("develop", "compose watch has no meaning on a server: podcd deploys what is committed"),
    Ignored("attach", "log attachment of `compose up` has no meaning on a server: see podman logs"),
};
// clang-format on

constexpr std::size_t kServiceKeyCount = std::size(kServiceKeys);

// Row indices sorted by key, for the loader's lookup.
constexpr auto kByKey = [] {
  std::array<std::uint8_t, kServiceKeyCount> idx{};
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::uint8_t>(i);
  std::sort(idx.begin(), idx.end(), [](auto a, auto b) { return kServiceKeys[a].key < kServiceKeys[b].key; });
  return idx;
}();

template <class Def, std::size_t N>
constexpr bool SortedUnique(const DefKey<Def> (&keys)[N]) {
  for (std::size_t i = 1; i < N; ++i) {
    if (!(keys[i - 1].key < keys[i].key)) return false;
  }
  return true;
}

using D = DefParseAs;

// clang-format off
constexpr DefKey<NetworkDef> kNetworkKeys[] = {
    {"driver",      D::kString,   &NetworkDef::driver,      C("network_drivers")},
    {"driver_opts", D::kMap,      &NetworkDef::driver_opts, C("network_drivers")},
    {"enable_ipv6", D::kBool,     &NetworkDef::enable_ipv6, H},
    {"external",    D::kExternal, &NetworkDef::external,    H},
    {"internal",    D::kBool,     &NetworkDef::internal,    H},
    {"ipam",        D::kIpam,     &NetworkDef::ipam,        H, "subnets (ip_range as lease range, gateway); aux_addresses checked and noted, Podman has no reserved addresses"},
    {"labels",      D::kMap,      &NetworkDef::labels,      H},
    {"name",        D::kString,   &NetworkDef::name,        H},
};
constexpr DefKey<VolumeDef> kVolumeKeys[] = {
    {"driver",      D::kString,   &VolumeDef::driver,      C("volume_drivers")},
    {"driver_opts", D::kMap,      &VolumeDef::driver_opts, C("volume_drivers host_binds host_binds_rw host_root podman_socket")},
    {"external",    D::kExternal, &VolumeDef::external,    C("shared_volumes")},
    {"labels",      D::kMap,      &VolumeDef::labels,      H},
    {"name",        D::kString,   &VolumeDef::name,        C("shared_volumes")},
};
// Configs and secrets.
constexpr DefKey<FileObjectDef> kFileObjectKeys[] = {
    {"external",    D::kExternal, &FileObjectDef::external, H},
    {"file",        D::kFile,     &FileObjectDef::file,     F},
    {"name",        D::kString,   &FileObjectDef::name,     H},
};
// clang-format on
// clang-format off
constexpr HookKey kHookKeys[] = {
    {"command", HookParseAs::kCommand,  &Hook::command, H},
    {"host",    HookParseAs::kBool,     &Hook::host,    C("host_hooks"), "true: runs on podcd's own host process, not in a container"},
    {"service", HookParseAs::kService,  &Hook::service, H, "the hook's container is made from this service's new definition"},
    {"timeout", HookParseAs::kDuration, &Hook::timeout, H, "default 2m; past it the hook is killed and fails"},
};
// clang-format on
constexpr bool HookKeysSorted() {
  for (std::size_t i = 1; i < std::size(kHookKeys); ++i) {
    if (!(kHookKeys[i - 1].key < kHookKeys[i].key)) return false;
  }
  return true;
}
static_assert(HookKeysSorted(), "a hook's canonical object lists its keys in sorted order");

// A hook's canonical object: {"command":[...],"host":false,...} over its table.
std::string CanonicalHook(const Hook& h) {
  std::string out = "{";
  for (const auto& row : kHookKeys) {
    if (out.size() > 1) out += ',';
    AppendQ(out, row.key);
    out += ':';
    std::visit(
        [&](auto member) {
          const auto& v = h.*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Nanos>)
            out += I(v.count());
          else
            out += Encode(v);
        },
        row.field);
  }
  out += '}';
  return out;
}

static_assert(SortedUnique(kNetworkKeys) && SortedUnique(kVolumeKeys) && SortedUnique(kFileObjectKeys),
              "a definition's canonical object lists its keys in sorted order");

}  // namespace

std::span<const ServiceKey> ServiceKeys() { return kServiceKeys; }

std::string_view ToString(PolicyClass c) {
  switch (c) {
    case PolicyClass::kUnclassified: return "unclassified";
    case PolicyClass::kHarmless: return "harmless";
    case PolicyClass::kChecked: return "checked";
    case PolicyClass::kRepoFiles: return "repository files";
    case PolicyClass::kListed: return "listed";
  }
  return "?";
}

const ServiceKey* FindServiceKey(std::string_view key) {
  auto it = std::lower_bound(kByKey.begin(), kByKey.end(), key,
                             [](std::uint8_t i, std::string_view k) { return kServiceKeys[i].key < k; });
  if (it == kByKey.end() || kServiceKeys[*it].key != key) return nullptr;
  return &kServiceKeys[*it];
}

std::span<const DefKey<NetworkDef>> NetworkKeys() { return kNetworkKeys; }
std::span<const HookKey> HookKeys() { return kHookKeys; }
std::span<const DefKey<VolumeDef>> VolumeKeys() { return kVolumeKeys; }
std::span<const DefKey<FileObjectDef>> FileObjectKeys() { return kFileObjectKeys; }

std::string CanonicalDef(const NetworkDef& def) { return DefObject(NetworkKeys(), def); }
std::string CanonicalDef(const VolumeDef& def) { return DefObject(VolumeKeys(), def); }
std::string CanonicalDef(const FileObjectDef& def) { return DefObject(FileObjectKeys(), def); }

// The visitor: the service's identity, every row of the table, then the digest of each
// repository file the service references.
CanonicalFields Canonicalize(const Stack& stack, const Service& s) {
  CanonicalFields f;
  Put(f, "name", Q(s.name));
  Put(f, "project", Q(stack.name));
  for (auto i : kByKey) {
    const auto& row = kServiceKeys[i];
    if (row.canonicalize != nullptr) row.canonicalize(stack, s, row.key, f);
  }
  for (const auto& path : s.files) {
    auto it = stack.files.find(path);
    Put(f, "file " + path,
        it == stack.files.end() ? "unknown"
                                : std::string(ToString(it->second.kind)) + " " + it->second.sha256);
  }
  // Only a service that a hook names has these fields: the others keep their fingerprints.
  for (const auto& h : stack.hooks) {
    if (h.service == s.name) Put(f, "hook " + h.name, CanonicalHook(h));
  }
  return f;
}

}  // namespace podcd::core
