#include "compose/loader_internal.hpp"

namespace podcd::compose {

// Top-level configs or secrets: a repository file each (or external).
void Loader::TopFileObjects(const Node& n, const std::string& what,
                            std::map<std::string, core::FileObjectDef>& dst, core::FileKind kind) {
  if (n.IsNull()) return;
  if (!n.IsMap()) return TypeErr(n, what, "a mapping");
  for (const auto& e : n.entries) {
    if (IsExtension(e.key)) continue;
    std::string path = what + "." + e.key;
    core::FileObjectDef d;
    const Node& v = *e.value;
    if (!v.IsMap()) {
      TypeErr(v, path, "a mapping with `file` or `external`");
      continue;
    }
    std::string file;
    const Node* file_node = Definition(v, path, core::FileObjectKeys(), d, file);
    if (d.external == (file_node != nullptr)) {
      Err(v, path, "needs exactly one of `file` or `external: true`");
      continue;
    }
    if (file_node && !file.empty()) {
      auto r = ResolvePath(*file_node, path + ".file", file, Scope::kRepoOrSecrets);
      if (!r) continue;
      if (!r->exists) {
        Err(*file_node, path + ".file", r->key + " does not exist");
        continue;
      }
      if (kind == core::FileKind::kSecret) SecretFile(*r);
      auto key = Reference(*file_node, path + ".file", *r, kind);
      if (!key) continue;
      d.file = *key;
      d.host_path = r->abs.string();
    }
    dst[e.key] = d;
  }
}

// A service's `configs` or `secrets`: short or long syntax, checked against the top level later.
std::vector<core::FileObjectRef> Loader::FileObjectRefs(const Node& v, const std::string& p,
                                                        const std::string& what) {
  std::vector<core::FileObjectRef> out;
  if (!v.IsSequence()) {
    TypeErr(v, p, "a list");
    return out;
  }
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Node& item = *v.items[i];
    std::string q = p + "[" + std::to_string(i) + "]";
    core::FileObjectRef r;
    if (item.IsScalar()) {
      SetStr(item, q, r.source);
    } else if (item.IsMap()) {
      for (const auto& e : item.entries) {
        std::string t = q + "." + e.key;
        if (e.key == "source")
          SetStr(*e.value, t, r.source);
        else if (e.key == "target")
          SetStr(*e.value, t, r.target);
        else if (e.key == "uid")
          SetStr(*e.value, t, r.uid);
        else if (e.key == "gid")
          SetStr(*e.value, t, r.gid);
        else if (e.key == "mode")
          r.mode = Mode(*e.value, t);
        else
          Unsupported(e, q);
      }
    } else {
      TypeErr(item, q, "a string or a mapping");
      continue;
    }
    object_refs_.push_back({what, r.source, item.mark, q});
    out.push_back(r);
  }
  return out;
}

}  // namespace podcd::compose
