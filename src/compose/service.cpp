#include "compose/loader_internal.hpp"

#include <algorithm>
#include <set>
#include <variant>

#include "util/strings.hpp"

namespace podcd::compose {

namespace {

// The row's field in `s`; the table pairs each ParseAs with the field type it fills.
template <class T>
T& FieldOf(core::Service& s, const core::ServiceKey& row) {
  return s.*std::get<T core::Service::*>(row.field);
}

}  // namespace

// A service: each key read as its row in core::ServiceKeys() says; keys without a row are
// refused.
void Loader::ServiceDef(const std::string& name, const Node& n, const std::string& path) {
  ServiceParse sp;
  sp.s.name = name;
  for (const auto& e : n.entries) {
    if (IsExtension(e.key)) continue;
    const core::ServiceKey* row = core::FindServiceKey(e.key);
    if (row == nullptr) {
      Unsupported(e, path);
      continue;
    }
    ServiceKey(*row, *e.value, path + "." + e.key, sp);
  }
  FinishService(n, path, sp);
}

void Loader::ServiceKey(const core::ServiceKey& row, const Node& v, const std::string& p, ServiceParse& sp) {
  using P = core::ParseAs;
  using Strings = std::vector<std::string>;
  core::Service& s = sp.s;
  switch (row.parse) {
    case P::kString: return SetStr(v, p, FieldOf<std::string>(s, row));
    case P::kBool: return SetBool(v, p, FieldOf<bool>(s, row));
    case P::kOptionalBool: FieldOf<std::optional<bool>>(s, row) = Bool(v, p); return;
    case P::kInt: FieldOf<std::int64_t>(s, row) = Int(v, p).value_or(0); return;
    case P::kSize: FieldOf<std::int64_t>(s, row) = Size(v, p).value_or(0); return;
    case P::kSizeOrUnlimited: FieldOf<std::int64_t>(s, row) = Size(v, p, true).value_or(0); return;
    case P::kCpus: FieldOf<std::int64_t>(s, row) = NanoCpus(v, p).value_or(0); return;
    case P::kDuration: FieldOf<std::optional<core::Nanos>>(s, row) = Duration(v, p); return;
    case P::kList: FieldOf<Strings>(s, row) = StrList(v, p); return;
    case P::kStrictList: FieldOf<Strings>(s, row) = StrList(v, p, false); return;
    case P::kMap: FieldOf<std::map<std::string, std::string>>(s, row) = StrMap(v, p); return;
    case P::kCapabilities: FieldOf<Strings>(s, row) = Caps(v, p); return;
    case P::kCommand: FieldOf<std::optional<Strings>>(s, row) = Command(v, p); return;
    case P::kExtraHosts: return ExtraHosts(v, p, FieldOf<Strings>(s, row));
    case P::kRestart: return Restart(v, p, FieldOf<std::string>(s, row));
    case P::kPullPolicy: return PullPolicy(v, p, FieldOf<std::string>(s, row));
    case P::kNetworkMode: sp.network_mode_node = &v; return SetStr(v, p, FieldOf<std::string>(s, row));
    case P::kEnvironment: sp.env = StrMap(v, p, &sp.env_null); return;
    case P::kBuild: sp.build_node = &v; return BuildDef(v, p, s);
    case P::kEnvFile: return EnvFiles(v, p, s, sp.env_from_files);
    case P::kPorts: return Ports(v, p, s);
    case P::kVolumes: return Volumes(v, p, s);
    case P::kNetworks: sp.has_networks = true; return ServiceNetworks(v, p, s);
    case P::kHealthcheck: return HealthcheckDef(v, p, s);
    case P::kDependsOn: return DependsOnDef(v, p, s);
    case P::kLogging: return LoggingDef(v, p, s);
    case P::kDeploy: return DeployDef(v, p, s);
    case P::kUlimits: return Ulimits(v, p, s);
    case P::kDevices: return Devices(v, p, s);
    case P::kConfigs: s.configs = FileObjectRefs(v, p, "configs"); return;
    case P::kSecrets: s.secrets = FileObjectRefs(v, p, "secrets"); return;
    case P::kIgnored: out_.notes.push_back(p + ": ignored (" + std::string(row.note) + ")"); return;
  }
}

// What needs the whole service: image or build, the environment's precedence, network_mode.
void Loader::FinishService(const Node& n, const std::string& path, ServiceParse& sp) {
  core::Service& s = sp.s;
  if (s.image.empty() && !s.build) Err(n, path, "needs `image` or `build`");
  // podcd builds what has no image, or what says pull_policy: build; otherwise `image` is
  // pulled as compose does and the build section is only a model.
  if (s.build && sp.build_node && (s.image.empty() || s.pull_policy == "build"))
    BuildContext(*sp.build_node, path + ".build", s);
  // Environment: env files in order, then `environment`; bare names take the variable's value.
  s.environment = std::move(sp.env_from_files);
  for (auto& [k, v] : sp.env) s.environment[k] = v;
  for (const auto& k : sp.env_null) {
    if (auto v = vars_(k)) s.environment[k] = *v;
  }
  if (sp.network_mode_node && !s.network_mode.empty()) {
    const auto& m = s.network_mode;
    bool ok = m == "bridge" || m == "none" || m == "host" || m == "private" || m == "slirp4netns" ||
              m == "pasta" || m.starts_with("service:") || m.starts_with("container:") ||
              m.starts_with("ns:") || m.starts_with("slirp4netns:") || m.starts_with("pasta:");
    if (!ok) Err(*sp.network_mode_node, path + ".network_mode", "unsupported network mode " + Quoted(m));
    if (sp.has_networks)
      Err(*sp.network_mode_node, path + ".network_mode", "cannot be combined with `networks`");
    if (m.starts_with("service:"))
      service_refs_.push_back({s.name, m.substr(8), sp.network_mode_node->mark, "network_mode"});
  } else if (!sp.has_networks) {
    s.networks["default"] = {};
  }
  // `tmpfs` entries are kept as written ("/path[:options]") but for the path's clean form.
  for (auto& t : s.tmpfs) {
    if (!t.starts_with('/')) continue;
    const auto colon = t.find(':');
    t = CleanContainerPath(std::string_view(t).substr(0, colon)) +
        (colon == std::string::npos ? std::string() : t.substr(colon));
  }
  s.files = SortedUnique(std::move(s.files));
  marks_[s.name] = n.mark;
  out_.services.push_back(std::move(s));
}

void Loader::Restart(const Node& v, const std::string& p, std::string& restart) {
  SetStr(v, p, restart);
  const auto& r = restart;
  bool ok = r == "no" || r == "always" || r == "unless-stopped" || r == "on-failure" ||
            (r.starts_with("on-failure:") && ParseInt(r.substr(11)).value_or(-1) >= 0);
  if (!ok) Err(v, p, "must be no, always, on-failure[:N] or unless-stopped, got " + Quoted(r));
}

void Loader::PullPolicy(const Node& v, const std::string& p, std::string& policy) {
  SetStr(v, p, policy);
  static const std::set<std::string> kOk = {"always", "never", "missing", "if_not_present", "build", "newer"};
  if (!kOk.contains(policy)) {
    Err(v, p, "must be always, never, missing, if_not_present, build or newer, got " + Quoted(policy));
  }
  if (policy == "if_not_present") policy = "missing";
}

void Loader::Ports(const Node& v, const std::string& p, core::Service& s) {
  if (!v.IsSequence()) return TypeErr(v, p, "a list");
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Node& item = *v.items[i];
    std::string q = p + "[" + std::to_string(i) + "]";
    core::Port port;
    if (item.IsScalar()) {
      auto text = Str(item, q);
      if (!text) continue;
      if (!ShortPort(*text, port)) {
        Err(item, q,
            "is not a valid port mapping: " + Quoted(*text) +
                " (expected [ip:][host[-range]:]container[-range][/protocol])");
        continue;
      }
    } else if (item.IsMap()) {
      bool has_target = false;
      for (const auto& e : item.entries) {
        std::string r = q + "." + e.key;
        const Node& ev = *e.value;
        if (IsExtension(e.key)) continue;
        if (e.key == "target") {
          auto t = Str(ev, r);
          auto range = t ? ParsePortRange(*t) : std::nullopt;
          if (t && !range) Err(ev, r, "must be a port number, got " + Quoted(*t));
          if (range) port.target = *range;
          has_target = true;
        } else if (e.key == "published") {
          auto t = Str(ev, r);
          if (t && !t->empty()) {
            auto range = ParsePortRange(*t);
            if (!range)
              Err(ev, r, "must be a port or a port range, got " + Quoted(*t));
            else
              port.published = *range;
          }
        } else if (e.key == "host_ip")
          SetStr(ev, r, port.host_ip);
        else if (e.key == "protocol")
          SetStr(ev, r, port.protocol);
        else if (e.key == "mode")
          SetStr(ev, r, port.mode);
        else if (e.key == "name")
          SetStr(ev, r, port.name);
        else if (e.key == "app_protocol")
          SetStr(ev, r, port.app_protocol);
        else
          Unsupported(e, q);
      }
      if (!has_target) Err(item, q, "needs `target`");
    } else {
      TypeErr(item, q, "a string or a mapping");
      continue;
    }
    if (port.protocol != "tcp" && port.protocol != "udp" && port.protocol != "sctp") {
      Err(item, q, "protocol must be tcp, udp or sctp, got " + Quoted(port.protocol));
    }
    if (port.published.start != 0 &&
        port.published.end - port.published.start != port.target.end - port.target.start &&
        port.target.start != port.target.end) {
      Err(item, q, "the host and container port ranges differ in size");
    }
    s.ports.push_back(port);
  }
}

bool Loader::ShortPort(std::string text, core::Port& port) {
  auto slash = text.rfind('/');
  if (slash != std::string::npos) {
    port.protocol = text.substr(slash + 1);
    text = text.substr(0, slash);
  }
  std::vector<std::string> parts;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    port.host_ip = text.substr(1, close - 1);
    text = text.substr(close + 2);
    parts.push_back(port.host_ip);
  }
  std::size_t start = 0;
  while (true) {
    auto c = text.find(':', start);
    parts.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  std::string host, target;
  if (parts.size() == 1) {
    target = parts[0];
  } else if (parts.size() == 2) {
    host = parts[0];
    target = parts[1];
  } else if (parts.size() == 3) {
    port.host_ip = parts[0];
    host = parts[1];
    target = parts[2];
    if (port.host_ip.empty()) return false;
  } else {
    return false;
  }
  auto t = ParsePortRange(target);
  if (!t) return false;
  port.target = *t;
  if (!host.empty()) {
    auto h = ParsePortRange(host);
    if (!h) return false;
    port.published = *h;
  }
  return true;
}

void Loader::HealthcheckDef(const Node& v, const std::string& p, core::Service& s) {
  if (!v.IsMap()) return TypeErr(v, p, "a mapping");
  core::Healthcheck h;
  for (const auto& e : v.entries) {
    std::string q = p + "." + e.key;
    const Node& ev = *e.value;
    if (IsExtension(e.key)) continue;
    if (e.key == "test") {
      if (ev.IsScalar()) {
        auto t = Str(ev, q);
        if (t) h.test = {"CMD-SHELL", *t};
      } else {
        h.test = StrList(ev, q, false);
        if (!h.test.empty() && h.test[0] != "NONE" && h.test[0] != "CMD" && h.test[0] != "CMD-SHELL") {
          Err(ev, q, "a list must start with NONE, CMD or CMD-SHELL");
        }
      }
    } else if (e.key == "interval")
      h.interval = Duration(ev, q).value_or(core::Nanos(0));
    else if (e.key == "timeout")
      h.timeout = Duration(ev, q).value_or(core::Nanos(0));
    else if (e.key == "start_period")
      h.start_period = Duration(ev, q).value_or(core::Nanos(0));
    else if (e.key == "start_interval")
      h.start_interval = Duration(ev, q).value_or(core::Nanos(0));
    else if (e.key == "retries")
      h.retries = Int(ev, q).value_or(0);
    else if (e.key == "disable")
      SetBool(ev, q, h.disable);
    else
      Unsupported(e, p);
  }
  if (!h.test.empty() && h.test[0] == "NONE") h.disable = true;
  if (h.disable) h = core::Healthcheck{.test = {"NONE"}, .disable = true};
  s.healthcheck = h;
}

void Loader::DependsOnDef(const Node& v, const std::string& p, core::Service& s) {
  if (v.IsSequence()) {
    for (auto& n : StrList(v, p, false)) {
      s.depends_on[n] = {};
      service_refs_.push_back({s.name, n, v.mark, p});
    }
    return;
  }
  if (!v.IsMap()) return TypeErr(v, p, "a list or a mapping");
  for (const auto& e : v.entries) {
    std::string q = p + "." + e.key;
    core::DependsOn d;
    if (e.value->IsMap()) {
      for (const auto& f : e.value->entries) {
        std::string r = q + "." + f.key;
        if (f.key == "condition") {
          SetStr(*f.value, r, d.condition);
          if (d.condition != "service_started" && d.condition != "service_healthy" &&
              d.condition != "service_completed_successfully") {
            Err(*f.value, r,
                "must be service_started, service_healthy or service_completed_successfully, got " +
                    Quoted(d.condition));
          }
        } else if (f.key == "restart")
          SetBool(*f.value, r, d.restart);
        else if (f.key == "required")
          SetBool(*f.value, r, d.required);
        else
          Unsupported(f, q);
      }
    } else if (!e.value->IsNull()) {
      TypeErr(*e.value, q, "a mapping");
    }
    s.depends_on[e.key] = d;
    service_refs_.push_back({s.name, e.key, e.key_mark, q, !d.required});
  }
}

std::vector<std::string> Loader::Caps(const Node& v, const std::string& p) {
  std::vector<std::string> out;
  for (auto c : StrList(v, p, false)) {
    for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (c.starts_with("CAP_")) c = c.substr(4);
    out.push_back(c);
  }
  return SortedUnique(std::move(out));
}

void Loader::ExtraHosts(const Node& v, const std::string& p, std::vector<std::string>& hosts) {
  if (v.IsMap()) {
    for (const auto& e : v.entries) {
      if (auto ip = Str(*e.value, p + "." + e.key)) hosts.push_back(e.key + ":" + *ip);
    }
    return;
  }
  for (auto h : StrList(v, p, false)) {
    auto sep = h.find_first_of(":=");
    if (sep == std::string::npos || sep == 0 || sep + 1 >= h.size()) {
      Err(v, p, "entries must be host:ip or host=ip, got " + Quoted(h));
      continue;
    }
    h[sep] = ':';
    hosts.push_back(h);
  }
}

void Loader::LoggingDef(const Node& v, const std::string& p, core::Service& s) {
  core::Logging l;
  const bool mapping = Options(v, p, [&](const tree::Entry& e, const std::string& q) {
    if (e.key == "driver")
      SetStr(*e.value, q, l.driver);
    else if (e.key == "options")
      l.options = StrMap(*e.value, q);
    else
      return false;
    return true;
  });
  if (mapping) s.logging = l;
}

void Loader::ResourcesDef(const Node& v, const std::string& p, core::Resources& r, bool limits) {
  Options(v, p, [&](const tree::Entry& e, const std::string& q) {
    if (e.key == "cpus")
      r.nano_cpus = NanoCpus(*e.value, q).value_or(0);
    else if (e.key == "memory")
      r.memory = Size(*e.value, q).value_or(0);
    else if (e.key == "pids" && limits)
      r.pids = Int(*e.value, q).value_or(0);
    else
      return false;
    return true;
  });
}

void Loader::DeployDef(const Node& v, const std::string& p, core::Service& s) {
  Options(v, p, [&](const tree::Entry& e, const std::string& q) {
    if (IsExtension(e.key)) return true;
    if (e.key != "resources") return false;
    Options(*e.value, q, [&](const tree::Entry& f, const std::string& r) {
      if (f.key == "limits")
        ResourcesDef(*f.value, r, s.deploy.limits, true);
      else if (f.key == "reservations")
        ResourcesDef(*f.value, r, s.deploy.reservations, false);
      else
        return false;
      return true;
    });
    return true;
  });
}

void Loader::Ulimits(const Node& v, const std::string& p, core::Service& s) {
  if (!v.IsMap()) return TypeErr(v, p, "a mapping");
  for (const auto& e : v.entries) {
    std::string q = p + "." + e.key;
    core::Ulimit u;
    if (e.value->IsMap()) {
      bool soft = false;
      bool hard = false;
      for (const auto& f : e.value->entries) {
        if (f.key == "soft") {
          u.soft = Int(*f.value, q + ".soft").value_or(0);
          soft = true;
        } else if (f.key == "hard") {
          u.hard = Int(*f.value, q + ".hard").value_or(0);
          hard = true;
        } else
          Unsupported(f, q);
      }
      if (!soft || !hard) Err(*e.value, q, "needs both `soft` and `hard`");
    } else {
      u.soft = u.hard = Int(*e.value, q).value_or(0);
    }
    s.ulimits[e.key] = u;
  }
}

void Loader::Devices(const Node& v, const std::string& p, core::Service& s) {
  if (!v.IsSequence()) return TypeErr(v, p, "a list");
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Node& item = *v.items[i];
    std::string q = p + "[" + std::to_string(i) + "]";
    core::Device d;
    if (item.IsScalar()) {
      auto t = Str(item, q);
      if (!t) continue;
      auto a = t->find(':');
      d.host_path = t->substr(0, a);
      if (a != std::string::npos) {
        auto b = t->find(':', a + 1);
        d.container_path = t->substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
        if (b != std::string::npos) d.permissions = t->substr(b + 1);
      }
    } else if (item.IsMap()) {
      for (const auto& e : item.entries) {
        if (e.key == "source")
          SetStr(*e.value, q + ".source", d.host_path);
        else if (e.key == "target")
          SetStr(*e.value, q + ".target", d.container_path);
        else if (e.key == "permissions")
          SetStr(*e.value, q + ".permissions", d.permissions);
        else
          Unsupported(e, q);
      }
    } else {
      TypeErr(item, q, "a string or a mapping");
      continue;
    }
    if (d.host_path.empty()) {
      Err(item, q, "the device path is empty");
      continue;
    }
    s.devices.push_back(d);
  }
}

}  // namespace podcd::compose
