#include "compose/loader_internal.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <variant>

#include "util/strings.hpp"

namespace podcd::compose {

Loader::Loader(const StackDir& stack, const LoadOptions& o) : stack_(stack), opt_(o) {
  std::error_code ec;
  repo_ = fs::weakly_canonical(fs::absolute(o.repo_root), ec);
  if (!o.secrets_dir.empty()) {
    fs::path sd = o.secrets_dir.is_relative() ? o.repo_root / o.secrets_dir : o.secrets_dir;
    secrets_ = fs::weakly_canonical(fs::absolute(sd), ec);
  }
  // The stack's paths under the canonical root: when the root's path runs through a symlink
  // (a TMPDIR, a mount point), the lexical checks must compare like with like.
  const fs::path root = fs::absolute(o.repo_root).lexically_normal();
  auto under_repo = [&](const fs::path& p) {
    fs::path abs = fs::absolute(p).lexically_normal();
    const fs::path rel = abs.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") return abs;
    return (repo_ / rel).lexically_normal();
  };
  dir_ = under_repo(stack.dir);
  file_ = RepoRel(under_repo(stack.compose_file));
  budget_ = o.max_hash_bytes;
}

std::expected<core::Stack, LoadErrors> Loader::Run(std::string_view text) {
  out_.dir = stack_.name;
  out_.name = stack_.name;
  out_.compose_file = file_;
  LoadVariables();
  if (!errors_.empty()) return std::unexpected(std::move(errors_));
  tree::NodePtr root = Assemble(text);
  if (!errors_.empty() || root == nullptr) return std::unexpected(std::move(errors_));
  Top(*root);
  AddShapingFiles();
  Resolve();
  if (!errors_.empty()) return std::unexpected(std::move(errors_));
  std::sort(out_.notes.begin(), out_.notes.end());
  std::sort(out_.warnings.begin(), out_.warnings.end());
  out_.warnings.erase(std::unique(out_.warnings.begin(), out_.warnings.end()), out_.warnings.end());
  return std::move(out_);
}

// ---------- errors and positions
void Loader::Err(const Node& n, const std::string& path, const std::string& msg) {
  if (errors_.size() >= 200) return;
  errors_.push_back(
      Error{ErrorCode::kInvalidArgument, path + ": " + msg, tree::Where(FileOf(n.mark), n.mark)});
}

void Loader::ErrAt(const tree::Mark& m, const std::string& path, const std::string& msg) {
  if (errors_.size() >= 200) return;
  errors_.push_back(Error{ErrorCode::kInvalidArgument, path + ": " + msg, tree::Where(FileOf(m), m)});
}

void Loader::TypeErr(const Node& n, const std::string& path, std::string_view want) {
  Err(n, path, "must be " + std::string(want) + ", got " + std::string(n.Describe()));
}

void Loader::Unsupported(const tree::Entry& e, const std::string& path) {
  ErrAt(e.key_mark, path.empty() ? e.key : path + "." + e.key,
        "unsupported key " + Quoted(e.key) + " (podcd refuses what it would otherwise silently ignore)");
}

template <class Def>
const Node* Loader::Definition(const Node& v, const std::string& path,
                               std::span<const core::DefKey<Def>> keys, Def& d, std::string& file) {
  const Node* file_node = nullptr;
  for (const auto& f : v.entries) {
    if (IsExtension(f.key)) continue;
    auto row = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.key == f.key; });
    if (row == keys.end()) {
      Unsupported(f, path);
      continue;
    }
    const std::string p = path + "." + f.key;
    const Node& fv = *f.value;
    switch (row->parse) {
      case core::DefParseAs::kString: SetStr(fv, p, d.*std::get<std::string Def::*>(row->field)); break;
      case core::DefParseAs::kBool: SetBool(fv, p, d.*std::get<bool Def::*>(row->field)); break;
      case core::DefParseAs::kMap:
        d.*std::get<std::map<std::string, std::string> Def::*>(row->field) = StrMap(fv, p);
        break;
      case core::DefParseAs::kExternal: External(fv, p, d.*std::get<bool Def::*>(row->field), d.name); break;
      case core::DefParseAs::kFile:
        file_node = &fv;
        SetStr(fv, p, file);
        break;
      case core::DefParseAs::kIpam: IpamDef(fv, p, d.*std::get<core::Ipam Def::*>(row->field)); break;
    }
  }
  return file_node;
}

template <class Def>
void Loader::Definitions(const Node& n, const std::string& what, std::span<const core::DefKey<Def>> keys,
                         std::map<std::string, Def>& dst) {
  if (n.IsNull()) return;
  if (!n.IsMap()) return TypeErr(n, what, "a mapping");
  for (const auto& e : n.entries) {
    if (IsExtension(e.key)) continue;
    std::string path = what + "." + e.key;
    Def d;
    const Node& v = *e.value;
    if (!v.IsNull() && !v.IsMap()) {
      TypeErr(v, path, "a mapping");
      continue;
    }
    std::string file;
    Definition(v, path, keys, d, file);
    if (d.name.empty()) d.name = d.external ? e.key : out_.name + "_" + e.key;
    dst[e.key] = d;
  }
}

template const Node* Loader::Definition(const Node&, const std::string&,
                                        std::span<const core::DefKey<core::FileObjectDef>>,
                                        core::FileObjectDef&, std::string&);

// ---------- top level
void Loader::Top(const Node& root) {
  if (root.IsNull()) {
    Err(root, "(root)", "the compose file is empty");
    return;
  }
  if (!root.IsMap()) {
    TypeErr(root, "(root)", "a mapping");
    return;
  }
  const Node* services = nullptr;
  // `name` first: default network and volume names derive from it.
  for (const auto& e : root.entries) {
    if (e.key != "name") continue;
    auto s = Str(*e.value, "name");
    if (s && !IsValidStackName(*s)) {
      Err(*e.value, "name", "must match ^[a-z0-9][a-z0-9_.-]{0,62}$, got " + Quoted(*s));
    } else if (s) {
      out_.name = *s;
    }
  }
  for (const auto& e : root.entries) {
    const Node& v = *e.value;
    if (e.key == "x-podcd") {
      PodcdSection(v);
      continue;
    }
    if (IsExtension(e.key) || e.key == "version" || e.key == "name") continue;
    if (e.key == "services") {
      services = &v;
    } else if (e.key == "networks") {
      Definitions(v, "networks", core::NetworkKeys(), out_.networks);
    } else if (e.key == "volumes") {
      Definitions(v, "volumes", core::VolumeKeys(), out_.volumes);
    } else if (e.key == "configs") {
      TopFileObjects(v, "configs", out_.configs, core::FileKind::kConfig);
    } else if (e.key == "secrets") {
      TopFileObjects(v, "secrets", out_.secrets, core::FileKind::kSecret);
    } else {
      Unsupported(e, "");
    }
  }
  if (!services || !services->IsMap() || services->entries.empty()) {
    if (services && !services->IsMap() && !services->IsNull()) {
      TypeErr(*services, "services", "a mapping");
    } else {
      Err(services ? *services : root, "services", "the stack defines no services");
    }
    return;
  }
  for (const auto& e : services->entries) {
    if (IsExtension(e.key)) continue;
    std::string path = "services." + e.key;
    if (!IsValidServiceName(e.key)) {
      ErrAt(e.key_mark, path, "invalid service name " + Quoted(e.key) + " (letters, digits, _ . -)");
      continue;
    }
    if (!e.value->IsMap()) {
      TypeErr(*e.value, path, "a mapping");
      continue;
    }
    ServiceDef(e.key, *e.value, path);
  }
}

bool Loader::IsValidServiceName(std::string_view n) {
  if (n.empty() || n.size() > 63) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return std::isalnum(static_cast<unsigned char>(n.front())) != 0;
}

// `external: true` or the legacy `external: {name: x}`.
void Loader::External(const Node& v, const std::string& p, bool& external, std::string& name) {
  if (v.IsMap()) {
    external = true;
    for (const auto& g : v.entries) {
      if (g.key == "name")
        SetStr(*g.value, p + ".name", name);
      else
        Unsupported(g, p);
    }
    return;
  }
  SetBool(v, p, external);
}

void Loader::Resolve() {
  std::sort(out_.services.begin(), out_.services.end(),
            [](const core::Service& a, const core::Service& b) { return a.name < b.name; });
  auto has_service = [&](const std::string& n) { return out_.Find(n) != nullptr; };
  for (const auto& r : service_refs_) {
    if (!has_service(r.to)) ErrAt(r.mark, r.path, "refers to unknown service " + Quoted(r.to));
  }
  FindDisabled();
  HookServices();
  // The default network exists when an enabled service is on it.
  for (const auto& r : network_refs_) {
    if (r.to == "default") {
      if (!out_.networks.contains("default") && !disabled_.contains(r.from))
        out_.networks["default"] = DefaultNetwork();
    } else if (!out_.networks.contains(r.to)) {
      ErrAt(r.mark, r.path,
            "refers to network " + Quoted(r.to) + ", which the top-level `networks` does not define");
    }
  }
  for (const auto& s : out_.services) {
    if (s.networks.contains("default") && !out_.networks.contains("default") && !disabled_.contains(s.name)) {
      out_.networks["default"] = DefaultNetwork();
    }
  }
  for (const auto& r : volume_refs_) {
    if (!out_.volumes.contains(r.to)) {
      ErrAt(r.mark, r.path, "named volume " + Quoted(r.to) + " is not defined in the top-level `volumes`");
    }
  }
  for (const auto& r : object_refs_) {
    const auto& defs = r.from == "configs" ? out_.configs : out_.secrets;
    if (!defs.contains(r.to)) {
      ErrAt(r.mark, r.path,
            "refers to " + Quoted(r.to) + ", which the top-level `" + r.from + "` does not define");
    }
  }
  Links();
  CheckAddresses();
  for (auto& s : out_.services) {
    for (auto& [_, n] : s.networks) n.aliases = SortedUnique(std::move(n.aliases));
    for (const auto& c : s.configs) {
      if (auto it = out_.configs.find(c.source); it != out_.configs.end() && !it->second.file.empty()) {
        s.files.push_back(it->second.file);
      }
    }
    for (const auto& c : s.secrets) {
      if (auto it = out_.secrets.find(c.source); it != out_.secrets.end() && !it->second.file.empty()) {
        s.files.push_back(it->second.file);
      }
    }
    s.files = SortedUnique(std::move(s.files));
  }
  // Two alternatives of one service (in two profiles) may share a container_name.
  std::set<std::string> names;
  for (const auto& s : out_.services) {
    if (disabled_.contains(s.name)) continue;
    if (!s.container_name.empty() && !names.insert(s.container_name).second) {
      Err(Node{}, "services." + s.name + ".container_name",
          "is used by two services: " + Quoted(s.container_name));
    }
  }
  DropDisabled();
}

// links: "db:database" makes "database" an alias of db on db's networks.
void Loader::Links() {
  for (auto& s : out_.services) {
    for (const auto& l : s.links) {
      auto c = l.find(':');
      std::string target = l.substr(0, c);
      std::string alias = c == std::string::npos ? target : l.substr(c + 1);
      core::Service* t = nullptr;
      for (auto& o : out_.services) {
        if (o.name == target) t = &o;
      }
      if (!t) {
        Err(Node{}, "services." + s.name + ".links", "refers to unknown service " + Quoted(target));
        continue;
      }
      if (alias != target && !disabled_.contains(s.name)) {
        for (auto& [_, n] : t->networks) n.aliases.push_back(alias);
      }
    }
  }
}

core::NetworkDef Loader::DefaultNetwork() const {
  core::NetworkDef d;
  d.name = out_.name + "_default";
  return d;
}

std::expected<core::Stack, LoadErrors> LoadStackFromText(std::string_view text, const StackDir& stack,
                                                         const LoadOptions& options) {
  if (text.size() > options.max_file_bytes) {
    return std::unexpected(
        LoadErrors{Error{ErrorCode::kInvalidArgument,
                         "file is " + std::to_string(text.size()) + " bytes, over the limit of " +
                             std::to_string(options.max_file_bytes),
                         stack.compose_file.string()}});
  }
  Loader l(stack, options);
  return l.Run(text);
}

std::expected<core::Stack, LoadErrors> LoadStack(const StackDir& stack, const LoadOptions& options) {
  std::error_code ec;
  fs::path repo = fs::weakly_canonical(fs::absolute(options.repo_root), ec);
  fs::path c = fs::weakly_canonical(stack.compose_file, ec);
  if (ec || !Within(repo, c)) {
    return std::unexpected(
        LoadErrors{Error{ErrorCode::kPermissionDenied, "the compose file resolves outside the repository",
                         stack.compose_file.string()}});
  }
  if (!fs::is_regular_file(c, ec)) {
    return std::unexpected(LoadErrors{Error{
        ErrorCode::kInvalidArgument, "the compose file is not a regular file", stack.compose_file.string()}});
  }
  auto text = ReadFile(c, options.max_file_bytes);
  if (!text) return std::unexpected(LoadErrors{text.error().WithContext(stack.compose_file.string())});
  return LoadStackFromText(*text, stack, options);
}

Expected<RepoLoad> LoadRepository(std::string_view services_dir, const LoadOptions& options) {
  auto found = DiscoverStacks(options.repo_root, services_dir);
  if (!found) return std::unexpected(found.error());
  RepoLoad out;
  for (auto& [name, error] : found->errors) out.invalid[name].push_back(std::move(error));
  for (const auto& dir : found->stacks) {
    auto stack = LoadStack(dir, options);
    if (stack) {
      out.stacks.push_back(std::move(*stack));
    } else {
      out.invalid[dir.name] = std::move(stack.error());
    }
  }
  return out;
}

}  // namespace podcd::compose
