#include "compose/loader_internal.hpp"

namespace podcd::compose {

// A service's `volumes`: short or long syntax; bind sources resolved and digested.
void Loader::Volumes(const Node& v, const std::string& p, core::Service& s) {
  if (!v.IsSequence()) return TypeErr(v, p, "a list");
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Node& item = *v.items[i];
    std::string q = p + "[" + std::to_string(i) + "]";
    core::Mount m;
    if (item.IsScalar()) {
      auto text = Str(item, q);
      if (!text) continue;
      if (!ShortVolume(item, q, *text, m)) continue;
    } else if (item.IsMap()) {
      if (!LongVolume(item, q, m)) continue;
    } else {
      TypeErr(item, q, "a string or a mapping");
      continue;
    }
    if (m.target.empty() || m.target.front() != '/') {
      Err(item, q, "the container path must be absolute, got " + Quoted(m.target));
      continue;
    }
    m.target = CleanContainerPath(m.target);
    if (m.type == core::MountType::kBind && !BindSource(item, q, m, s)) continue;
    if (m.type == core::MountType::kVolume && !m.source.empty())
      volume_refs_.push_back({s.name, m.source, item.mark, q});
    s.volumes.push_back(m);
  }
}

bool Loader::ShortVolume(const Node& item, const std::string& q, const std::string& text, core::Mount& m) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto c = text.find(':', start);
    parts.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  if (parts.size() > 3 || parts.empty()) {
    Err(item, q, "is not a valid volume: " + Quoted(text) + " (expected [source:]target[:options])");
    return false;
  }
  if (parts.size() == 1) {
    m.type = core::MountType::kVolume;
    m.target = parts[0];
    return true;
  }
  const std::string& src = parts[0];
  m.target = parts[1];
  if (src.empty()) {
    Err(item, q, "the volume source is empty");
    return false;
  }
  bool path_like = src.front() == '/' || src.front() == '.' || src.front() == '~';
  m.type = path_like ? core::MountType::kBind : core::MountType::kVolume;
  m.source = src;
  if (parts.size() == 3) {
    std::size_t b = 0;
    const std::string& opts = parts[2];
    while (b <= opts.size()) {
      auto c = opts.find(',', b);
      std::string o = opts.substr(b, c == std::string::npos ? std::string::npos : c - b);
      if (o == "ro")
        m.read_only = true;
      else if (o == "rw")
        m.read_only = false;
      else if (o == "z" || o == "Z")
        m.selinux = o;
      else if (o == "U")
        m.chown = true;
      else if (o == "nocopy" && m.type == core::MountType::kVolume)
        m.nocopy = true;
      else if (m.type == core::MountType::kBind && (o == "shared" || o == "rshared" || o == "slave" ||
                                                    o == "rslave" || o == "private" || o == "rprivate"))
        m.propagation = o;
      else if (o == "delegated" || o == "cached" || o == "consistent") {
        // macOS-only consistency hints: no effect on Linux.
      } else {
        Err(item, q,
            "unsupported volume option " + Quoted(o) + " (known: ro, rw, z, Z, U, nocopy, propagation)");
        return false;
      }
      if (c == std::string::npos) break;
      b = c + 1;
    }
  }
  return true;
}

bool Loader::LongVolume(const Node& item, const std::string& q, core::Mount& m) {
  std::string type;
  for (const auto& e : item.entries) {
    if (e.key == "type") SetStr(*e.value, q + ".type", type);
  }
  if (type == "volume")
    m.type = core::MountType::kVolume;
  else if (type == "bind")
    m.type = core::MountType::kBind;
  else if (type == "tmpfs")
    m.type = core::MountType::kTmpfs;
  else {
    Err(item, q + ".type", "must be volume, bind or tmpfs, got " + Quoted(type));
    return false;
  }
  for (const auto& e : item.entries) {
    std::string r = q + "." + e.key;
    const Node& v = *e.value;
    if (IsExtension(e.key) || e.key == "type") continue;
    if (e.key == "source")
      SetStr(v, r, m.source);
    else if (e.key == "target")
      SetStr(v, r, m.target);
    else if (e.key == "read_only")
      SetBool(v, r, m.read_only);
    else if (e.key == "consistency") {
    } else if (e.key == "bind" && m.type == core::MountType::kBind) {
      BindOptions(v, r, m);
    } else if (e.key == "volume" && m.type == core::MountType::kVolume) {
      VolumeOptions(v, r, m);
    } else if (e.key == "tmpfs" && m.type == core::MountType::kTmpfs) {
      TmpfsOptions(v, r, m);
    } else {
      Unsupported(e, q);
    }
  }
  if (m.type == core::MountType::kBind && m.source.empty()) {
    Err(item, q, "a bind mount needs `source`");
    return false;
  }
  if (m.type == core::MountType::kTmpfs && !m.source.empty()) {
    Err(item, q, "a tmpfs mount takes no `source`");
    return false;
  }
  return true;
}

void Loader::BindOptions(const Node& v, const std::string& r, core::Mount& m) {
  Options(v, r, [&](const tree::Entry& f, const std::string& t) {
    if (f.key == "propagation") {
      SetStr(*f.value, t, m.propagation);
    } else if (f.key == "create_host_path") {
      SetBool(*f.value, t, m.create_host_path);
    } else if (f.key == "selinux") {
      SetStr(*f.value, t, m.selinux);
      if (m.selinux != "z" && m.selinux != "Z") Err(*f.value, t, "must be z or Z");
    } else {
      return false;
    }
    return true;
  });
}

void Loader::VolumeOptions(const Node& v, const std::string& r, core::Mount& m) {
  Options(v, r, [&](const tree::Entry& f, const std::string& t) {
    if (f.key == "nocopy")
      SetBool(*f.value, t, m.nocopy);
    else if (f.key == "subpath")
      SetStr(*f.value, t, m.subpath);
    else
      return false;
    return true;
  });
}

void Loader::TmpfsOptions(const Node& v, const std::string& r, core::Mount& m) {
  Options(v, r, [&](const tree::Entry& f, const std::string& t) {
    if (f.key == "size")
      m.tmpfs_size = Size(*f.value, t).value_or(0);
    else if (f.key == "mode")
      m.tmpfs_mode = Mode(*f.value, t);
    else
      return false;
    return true;
  });
}

bool Loader::BindSource(const Node& item, const std::string& q, core::Mount& m, core::Service& s) {
  bool outside = false;
  auto r = ResolvePath(item, q, m.source, Scope::kAnywhere, &outside);
  if (!r) return false;
  if (outside) {
    m.source = r->abs.string();
    return true;
  }
  m.source = r->abs.string();
  m.repo_path = r->key;
  auto key = Reference(item, q, *r, core::FileKind::kBindFile);
  if (!key) return false;
  s.files.push_back(*key);
  return true;
}

// Go's path.Clean, lexically: compose cleans every mount target so, and Podman compares
// destinations as strings (a read-only container's default tmpfs yields to a mount there).
std::string CleanContainerPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);  // a relative path keeps leading ".."; "/.." is "/"
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

}  // namespace podcd::compose
