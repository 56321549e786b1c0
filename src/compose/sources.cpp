// The files a stack is made of, assembled into one tree before it is read: the compose file,
// its override file (compose.override.yaml and the other names compose looks for), the files
// its services `extends`, and the files it `include`s, each merged by the compose
// specification's rules (compose/merge.hpp). Every node keeps its file (Mark::file): errors
// name the file and line where the problem is, relative paths resolve from that file's
// directory, and each file other than the compose file enters the fingerprint of exactly the
// services it shapes.
#include <algorithm>
#include <unordered_map>

#include "compose/loader_internal.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::compose {
namespace {

using tree::NodePtr;

const tree::Entry* Find(const Node& map, std::string_view key) {
  if (!map.IsMap()) return nullptr;
  for (const auto& e : map.entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

// `map` with `key` set to `value` (added at the end when missing), or removed when null.
NodePtr With(const NodePtr& map, const std::string& key, const NodePtr& value,
             const tree::Mark& key_mark = {}) {
  auto out = std::make_shared<Node>(*map);
  auto it =
      std::find_if(out->entries.begin(), out->entries.end(), [&](const auto& e) { return e.key == key; });
  if (value == nullptr) {
    if (it != out->entries.end()) out->entries.erase(it);
  } else if (it != out->entries.end()) {
    it->value = value;
  } else {
    out->entries.push_back(tree::Entry{key, key_mark, value});
  }
  out->tagged_below = false;
  for (const auto& e : out->entries) out->tagged_below = out->tagged_below || e.value->tagged_below;
  return out;
}

std::string Chain(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " -> ") + n;
  return out;
}

constexpr std::string_view kResourceKinds[] = {"services", "networks", "volumes", "configs", "secrets"};

}  // namespace

const Loader::SourceFile* Loader::SourceOf(const tree::Mark& m) const {
  if (m.file <= 0 || static_cast<std::size_t>(m.file) >= files_.size()) return nullptr;
  return &files_[static_cast<std::size_t>(m.file)];
}

std::string Loader::FileOf(const tree::Mark& m) const {
  const SourceFile* s = SourceOf(m);
  return s == nullptr ? file_ : s->rel;
}

void Loader::MergeIssues(TreeMerger& merger) {
  for (const auto& i : merger.issues) ErrAt(i.mark, i.path, i.message);
  merger.issues.clear();
}

tree::NodePtr Loader::Assemble(std::string_view text) {
  // The compose file is in no fingerprint as a file (its effect is the canonical form): no digest.
  files_.push_back(SourceFile{file_, dir_, dir_, std::nullopt, {}});
  auto root = tree::Parse(text, file_, 0);
  if (!root) {
    errors_ = std::move(root.error());
    return nullptr;
  }
  roots_.push_back(*root);
  Unit main = Extends(0);
  OverrideFile(main);
  std::vector<std::string> chain = {file_};
  Includes(main, chain);
  MergeIssues(merger_);
  shapes_ = std::move(main.shapes);
  return main.root ? TreeMerger::StripResets(main.root) : nullptr;
}

// A compose file named by another one: inside the repository (not the secrets directory),
// existing, a regular file.
std::optional<Loader::Resolved> Loader::SourcePath(const Node& n, const std::string& path,
                                                   const std::string& raw) {
  auto r = ResolvePath(n, path, raw, Scope::kRepoOrSecrets);
  if (!r) return std::nullopt;
  if (r->InSecrets()) {
    Err(n, path, Quoted(raw) + " is in the secrets directory: compose files must be in the repository");
    return std::nullopt;
  }
  if (!r->exists) {
    Err(n, path, r->key + " does not exist");
    return std::nullopt;
  }
  return r;
}

std::optional<int> Loader::ReadSource(const Node& at, const std::string& path, const Resolved& r,
                                      const fs::path& dir, const fs::path& scope,
                                      std::optional<Lookup> vars) {
  if (++loads_ > kMaxStackFiles) {
    if (loads_ == kMaxStackFiles + 1) {
      Err(at, path,
          "the stack is made of more than " + std::to_string(kMaxStackFiles) +
              " compose file loads (include, extends, override files; a file loaded twice counts twice), "
              "podcd's limit");
    }
    return std::nullopt;
  }
  auto text = ReadSmall(at, path, r);
  if (!text) return std::nullopt;
  loaded_bytes_ += text->size();
  if (loaded_bytes_ > kMaxStackComposeBytes) {
    Err(at, path,
        "the stack's compose files are more than " + std::to_string(kMaxStackComposeBytes >> 20) +
            " MiB together, podcd's limit");
    return std::nullopt;
  }
  const int index = static_cast<int>(files_.size());
  files_.push_back(SourceFile{r.key, dir, scope, std::move(vars), Sha256Hex(*text)});
  auto root = tree::Parse(*text, r.key, index);
  if (!root) {
    for (auto& e : root.error()) errors_.push_back(std::move(e));
    roots_.push_back(std::make_shared<Node>());
    return std::nullopt;
  }
  roots_.push_back(*root);
  return index;
}

// ---------- override file: merged onto the compose file; it shapes the services it names.
void Loader::OverrideFile(Unit& main) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto name : kOverrideFileNames) {
    if (fs::exists(fs::symlink_status(dir_ / name, ec))) found.emplace_back(name);
  }
  if (found.empty()) return;
  if (found.size() > 1) {
    std::string names;
    for (const auto& f : found) names += (names.empty() ? "" : ", ") + f;
    Err(Node{}, "(override)", "more than one override file in the stack's directory: " + names);
    return;
  }
  const Node none;
  auto r = SourcePath(none, found.front(), found.front());
  if (!r) return;
  auto index = ReadSource(none, found.front(), *r, dir_, dir_, std::nullopt);
  if (!index) return;
  Unit over = Extends(*index);
  if (over.root == nullptr || !main.root) return;
  if (!over.root->IsMap()) {
    if (!over.root->IsNull()) TypeErr(*over.root, "(root)", "a mapping");
    return;
  }
  if (const auto* services = Find(*over.root, "services"); services && services->value->IsMap()) {
    for (const auto& e : services->value->entries) {
      auto& shapes = main.shapes[e.key];
      shapes.insert(*index);
      const auto& more = over.shapes[e.key];
      shapes.insert(more.begin(), more.end());
    }
  }
  main.root = merger_.Merge(main.root, over.root, {});
}

// ---------- extends: each service of `file` that extends another, merged onto it.
Loader::Unit Loader::Extends(int file) {
  Unit unit;
  unit.root = roots_[static_cast<std::size_t>(file)];
  const tree::Entry* services = Find(*unit.root, "services");
  if (services == nullptr || !services->value->IsMap()) return unit;
  // Rebuilt once (a copy of the mapping per extending service would be n^2).
  auto map = std::make_shared<Node>(*services->value);
  map->entries.clear();
  bool changed = false;
  for (const auto& e : services->value->entries) {
    if (!e.value->IsMap() || Find(*e.value, "extends") == nullptr) {
      map->entries.push_back(e);
      continue;
    }
    ExtendsChain chain;
    const Extended& resolved = ExtendedService(file, e.key, chain);
    if (resolved.node != nullptr) map->entries.push_back(tree::Entry{e.key, e.key_mark, resolved.node});
    changed = true;
    if (!resolved.shapes.empty()) unit.shapes[e.key] = resolved.shapes;
  }
  if (changed) unit.root = With(unit.root, "services", map);
  MergeIssues(merger_);
  return unit;
}

// The service `name` of `file` with its `extends` chain resolved (node nullptr after an
// error), memoized: each service is merged once however many extend it.
const Loader::Extended& Loader::ExtendedService(int file, const std::string& name, ExtendsChain& chain) {
  static const Extended kFailed;
  const auto key = std::make_pair(file, name);
  if (auto it = extended_.find(key); it != extended_.end()) return it->second;
  const tree::Entry* services = Find(*roots_[static_cast<std::size_t>(file)], "services");
  const tree::Entry* entry = services ? Find(*services->value, name) : nullptr;
  if (entry == nullptr) return kFailed;
  const NodePtr& svc = entry->value;
  const tree::Entry* ext = Find(*svc, "extends");
  if (ext == nullptr) return extended_[key] = Extended{svc, {}, 0};
  const std::string path = "services." + name + ".extends";
  auto fail = [&]() -> const Extended& { return extended_[key] = Extended{}; };
  auto label = [&](const std::pair<int, std::string>& k) {
    return k.first == chain.front().first
               ? k.second
               : k.second + " (" + files_[static_cast<std::size_t>(k.first)].rel + ")";
  };
  if (auto from = std::find(chain.begin(), chain.end(), key); from != chain.end()) {
    std::vector<std::string> names;
    for (auto it = from; it != chain.end(); ++it) names.push_back(label(*it));
    names.push_back(label(key));
    ErrAt(ext->key_mark, path, "extends cycle: " + Chain(names));
    return kFailed;  // each service of the cycle is marked failed as the chain unwinds
  }
  auto target = ExtendsTarget(file, *ext->value, path);
  if (!target) return fail();
  const auto [target_file, target_name] = *target;
  chain.push_back(key);
  const Extended base = ExtendedService(target_file, target_name, chain);
  chain.pop_back();
  if (base.node == nullptr) return fail();
  if (base.depth + 1 > kMaxExtendsDepth) {
    ErrAt(ext->key_mark, path,
          "an extends chain longer than " + std::to_string(kMaxExtendsDepth) + " services, podcd's limit");
    return fail();
  }
  Extended out;
  out.depth = base.depth + 1;
  out.shapes = base.shapes;
  if (target_file != file) out.shapes.insert(target_file);
  out.node =
      merger_.Merge(base.node, With(svc, "extends", nullptr), {"services." + name, "services.*"}, false);
  return extended_[key] = std::move(out);
}

// What `extends` names, `extends: name` or `extends: {service: name, file: path}`: the file
// (read once however many services extend from it) and the service. nullopt after an error.
std::optional<std::pair<int, std::string>> Loader::ExtendsTarget(int file, const Node& v,
                                                                 const std::string& path) {
  std::string target;
  std::string other;
  const Node* file_node = nullptr;
  if (v.IsScalar()) {
    SetStr(v, path, target);
  } else if (v.IsMap()) {
    for (const auto& f : v.entries) {
      if (f.key == "service") {
        SetStr(*f.value, path + ".service", target);
      } else if (f.key == "file") {
        file_node = f.value.get();
        SetStr(*f.value, path + ".file", other);
      } else {
        Unsupported(f, path);
      }
    }
  } else {
    TypeErr(v, path, "a service name or a mapping with `service`");
    return std::nullopt;
  }
  if (target.empty()) {
    Err(v, path, "needs `service`");
    return std::nullopt;
  }
  int target_file = file;
  if (file_node != nullptr) {
    auto r = SourcePath(*file_node, path + ".file", other);
    if (!r) return std::nullopt;
    const fs::path scope = files_[static_cast<std::size_t>(file)].scope;  // files_ may grow below
    const std::optional<Lookup> vars = files_[static_cast<std::size_t>(file)].vars;
    if (!Within(scope, r->abs)) {
      Err(*file_node, path + ".file",
          Quoted(other) + " is outside the stack's directory (" + RepoRel(scope) +
              "): a stack extends only its own files");
      return std::nullopt;
    }
    target_file = -1;
    for (std::size_t i = 1; i < files_.size(); ++i) {
      if (files_[i].rel == r->key && files_[i].scope == scope) target_file = static_cast<int>(i);
    }
    if (target_file < 0) {
      auto index = ReadSource(*file_node, path + ".file", *r, r->abs.parent_path(), scope, vars);
      if (!index) return std::nullopt;
      target_file = *index;
    }
  }
  const tree::Entry* there = Find(*roots_[static_cast<std::size_t>(target_file)], "services");
  const tree::Entry* base_entry = there ? Find(*there->value, target) : nullptr;
  if (base_entry == nullptr || !base_entry->value->IsMap()) {
    Err(v, path,
        "service " + Quoted(target) + " is not defined in " +
            files_[static_cast<std::size_t>(target_file)].rel);
    return std::nullopt;
  }
  return std::make_pair(target_file, target);
}

// ---------- include: each listed file loads as a project of its own, and its resources join.
void Loader::Includes(Unit& unit, std::vector<std::string>& chain) {
  if (unit.root == nullptr || !unit.root->IsMap()) return;
  const tree::Entry* inc = Find(*unit.root, "include");
  if (inc == nullptr) return;
  NodePtr list = inc->value;
  unit.root = With(unit.root, "include", nullptr);
  if (list->IsNull()) return;
  if (!list->IsSequence()) return TypeErr(*list, "include", "a list of paths or mappings with `path`");
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    auto included = IncludeItem(*list->items[i], "include[" + std::to_string(i) + "]", chain);
    if (included) Import(unit, *included);
  }
}

// An item of `include`: a path, or {path (one or a list), project_directory, env_file}.
std::optional<Loader::IncludeSpec> Loader::ParseInclude(const Node& item, const std::string& p) {
  IncludeSpec spec;
  auto add_paths = [&](const Node& v, const std::string& q) {
    if (v.IsSequence()) {
      for (std::size_t j = 0; j < v.items.size(); ++j) {
        std::string s;
        SetStr(*v.items[j], q + "[" + std::to_string(j) + "]", s);
        if (!s.empty()) spec.paths.emplace_back(v.items[j].get(), s);
      }
      return;
    }
    std::string s;
    SetStr(v, q, s);
    if (!s.empty()) spec.paths.emplace_back(&v, s);
  };
  if (item.IsScalar()) {
    add_paths(item, p);
  } else if (item.IsMap()) {
    for (const auto& e : item.entries) {
      if (e.key == "path") {
        add_paths(*e.value, p + ".path");
      } else if (e.key == "project_directory") {
        spec.project_node = e.value.get();
        SetStr(*e.value, p + ".project_directory", spec.project_raw);
      } else if (e.key == "env_file") {
        spec.env_file = e.value.get();
      } else {
        Unsupported(e, p);
      }
    }
  } else {
    TypeErr(item, p, "a path or a mapping with `path`");
    return std::nullopt;
  }
  if (spec.paths.empty()) {
    Err(item, p, "needs `path`");
    return std::nullopt;
  }
  return spec;
}

std::optional<Loader::Unit> Loader::IncludeItem(const Node& item, const std::string& p,
                                                std::vector<std::string>& chain) {
  auto spec = ParseInclude(item, p);
  if (!spec) return std::nullopt;
  std::vector<Resolved> resolved;
  for (const auto& [node, raw] : spec->paths) {
    auto r = SourcePath(*node, p, raw);
    if (!r) return std::nullopt;
    resolved.push_back(*r);
  }
  const Node& first = *spec->paths.front().first;
  if (auto at = std::find(chain.begin(), chain.end(), resolved.front().key); at != chain.end()) {
    std::vector<std::string> names(at, chain.end());
    names.push_back(resolved.front().key);
    Err(first, p, "include cycle: " + Chain(names));
    return std::nullopt;
  }
  if (chain.size() > kMaxIncludeDepth) {
    Err(first, p,
        "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " files, podcd's limit");
    return std::nullopt;
  }
  // The included project's directory: as written (relative to the including file's), or the
  // first file's own.
  fs::path project = resolved.front().abs.parent_path();
  if (spec->project_node != nullptr) {
    const Node& n = *spec->project_node;
    auto r = ResolvePath(n, p + ".project_directory", spec->project_raw, Scope::kRepoOrSecrets);
    if (!r) return std::nullopt;
    std::error_code ec;
    if (r->InSecrets() || !fs::is_directory(r->abs, ec)) {
      Err(n, p + ".project_directory", Quoted(spec->project_raw) + " is not a directory of the repository");
      return std::nullopt;
    }
    project = r->abs;
  }
  auto vars = IncludeVars(item, p, spec->env_file, project);
  if (!vars) return std::nullopt;
  // Its files, merged as override files in order.
  Unit out;
  for (std::size_t j = 0; j < resolved.size(); ++j) {
    auto index = ReadSource(*spec->paths[j].first, p, resolved[j], project, project, *vars);
    if (!index) return std::nullopt;
    Unit u = Extends(*index);
    if (u.root == nullptr) return std::nullopt;
    if (!u.root->IsMap()) {
      TypeErr(*u.root, "(root)", "a mapping");
      return std::nullopt;
    }
    if (const auto* services = Find(*u.root, "services"); services && services->value->IsMap()) {
      for (const auto& e : services->value->entries) u.shapes[e.key].insert(*index);
    }
    if (j == 0) {
      out = std::move(u);
      continue;
    }
    out.root = merger_.Merge(out.root, u.root, {});
    for (auto& [svc, files] : u.shapes) out.shapes[svc].insert(files.begin(), files.end());
  }
  MergeIssues(merger_);
  chain.push_back(resolved.front().key);
  Includes(out, chain);
  chain.pop_back();
  return out;
}

// An included project's variables: the including stack's first, then its env files (or the
// .env of its project directory), as compose gives them.
std::optional<Lookup> Loader::IncludeVars(const Node& item, const std::string& p, const Node* env_file,
                                          const fs::path& project) {
  std::vector<std::pair<const Node*, std::string>> files;
  if (env_file != nullptr) {
    auto list = StrList(*env_file, p + ".env_file");
    for (auto& f : list) files.emplace_back(env_file, f);
  } else {
    std::error_code ec;
    if (project != dir_ && fs::exists(fs::symlink_status(project / ".env", ec))) {
      files.emplace_back(nullptr, (project / ".env").string());
    }
  }
  std::map<std::string, std::string> vars;
  const SourceFile* from = SourceOf(item.mark);
  const Lookup parent = from != nullptr && from->vars ? *from->vars : vars_;
  const Node none;
  for (const auto& [node, raw] : files) {
    auto r = ResolvePath(node ? *node : item, p + ".env_file", raw, Scope::kRepoOrSecrets);
    if (!r) return std::nullopt;
    if (!r->exists) {
      Err(node ? *node : item, p + ".env_file", r->key + " does not exist");
      return std::nullopt;
    }
    auto text = ReadSmall(node ? *node : item, p + ".env_file", *r);
    if (!text) return std::nullopt;
    auto entries = ParseEnvFile(*text, r->key, ChainLookup(parent, MapLookup(vars)), &value_budget_);
    if (!entries) {
      errors_.push_back(entries.error());
      return std::nullopt;
    }
    SecretValues(*r, *entries);
    for (const auto& [k, v] : *entries) vars[k] = v;
    // Like the stack's .env: their effect is the interpolated values.
    Reference(none, p + ".env_file", *r, core::FileKind::kEnvFile);
  }
  if (vars.empty()) return parent;
  return ChainLookup(parent, MapLookup(vars));
}

// An included project's services, networks, volumes, configs and secrets join the stack; a
// name defined twice is an error that names both places.
void Loader::Import(Unit& into, const Unit& from) {
  if (into.root == nullptr || !into.root->IsMap() || from.root == nullptr) return;
  for (auto kind : kResourceKinds) {
    const tree::Entry* theirs = Find(*from.root, kind);
    if (theirs == nullptr || !theirs->value->IsMap() || theirs->value->entries.empty()) continue;
    const std::string k(kind);
    const tree::Entry* ours = Find(*into.root, k);
    auto map = std::make_shared<Node>();
    if (ours != nullptr && ours->value->IsMap()) *map = *ours->value;
    map->kind = Node::Kind::kMap;
    if (ours == nullptr || !ours->value->IsMap()) map->mark = theirs->value->mark;
    // Reserved first: `defined` views the keys where they stay.
    map->entries.reserve(map->entries.size() + theirs->value->entries.size());
    std::unordered_map<std::string_view, tree::Mark> defined;
    for (const auto& e : map->entries) defined.emplace(e.key, e.key_mark);
    for (const auto& e : theirs->value->entries) {
      if (IsExtension(e.key)) continue;
      if (auto other = defined.find(e.key); other != defined.end()) {
        ErrAt(e.key_mark, k + "." + e.key,
              "is defined twice: here and at " + tree::Where(FileOf(other->second), other->second) +
                  " (an included file may not redefine a name)");
        continue;
      }
      defined.emplace(e.key, e.key_mark);  // a view into `theirs`, which outlives the loop
      map->entries.push_back(e);
      if (k == "services") {
        if (auto it = from.shapes.find(e.key); it != from.shapes.end()) into.shapes[e.key] = it->second;
      }
    }
    map->tagged_below = false;
    for (const auto& e : map->entries) map->tagged_below = map->tagged_below || e.value->tagged_below;
    into.root = With(into.root, k, map, theirs->key_mark);
  }
}

// Each file that shaped a service (other than the compose file) is one of its files: in its
// fingerprint, with its digest.
void Loader::AddShapingFiles() {
  for (auto& s : out_.services) {
    auto it = shapes_.find(s.name);
    if (it == shapes_.end()) continue;
    for (int f : it->second) {
      const SourceFile& src = files_[static_cast<std::size_t>(f)];
      out_.files[src.rel] = core::ReferencedFile{src.rel, core::FileKind::kCompose, src.sha256};
      s.files.push_back(src.rel);
    }
  }
}

}  // namespace podcd::compose
