#include "compose/loader_internal.hpp"

#include <cstdlib>
#include <cstring>

#include "util/strings.hpp"

namespace podcd::compose {

void Loader::SecretValues(const Resolved& r, const EnvEntries& entries) const {
  if (!opt_.on_secret_value || !r.InSecrets()) return;
  for (const auto& [k, v] : entries) opt_.on_secret_value(v);
}

void Loader::SecretFile(const Resolved& r) {
  if (!opt_.on_secret_value || !r.InSecrets()) return;
  std::error_code ec;
  if (!fs::is_regular_file(r.abs, ec)) return;
  if (auto text = ReadFile(r.abs, opt_.max_file_bytes)) opt_.on_secret_value(*text);
}

// ---------- variables: podman-compose.env, then .env on top, then the host allow-list
void Loader::LoadVariables() {
  std::map<std::string, std::string> vars;
  Node dummy;
  for (const char* name : {"podman-compose.env", ".env"}) {
    fs::path p = dir_ / name;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(p, ec))) continue;
    std::size_t before = errors_.size();
    // These errors are about the variables file, not a place in the compose file.
    auto own_context = [&] {
      for (std::size_t i = before; i < errors_.size(); ++i) {
        errors_[i].context = RepoRel(p);
        if (errors_[i].message.starts_with(std::string(name) + ": ")) {
          errors_[i].message = errors_[i].message.substr(std::strlen(name) + 2);
        }
        if (errors_[i].message.starts_with(RepoRel(p) + ": ")) {
          errors_[i].message = errors_[i].message.substr(RepoRel(p).size() + 2);
        }
      }
    };
    auto r = ResolvePath(dummy, name, name, Scope::kRepoOrSecrets);
    if (!r) {
      own_context();
      continue;
    }
    auto text = ReadSmall(dummy, name, *r);
    if (!text) {
      own_context();
      continue;
    }
    auto entries = ParseEnvFile(*text, r->key, ChainLookup(MapLookup(vars), opt_.host_env), &value_budget_);
    if (entries) SecretValues(*r, *entries);
    if (!entries) {
      errors_.push_back(entries.error());
      continue;
    }
    for (const auto& [k, v] : *entries) {
      if (std::string(name) == ".env") {
        auto it = vars.find(k);
        if (it != vars.end() && it->second != v && !from_env_.contains(k)) {
          out_.warnings.push_back(k + " is set in both podman-compose.env and .env; .env wins");
        }
        from_env_.insert(k);
      }
      vars[k] = v;
    }
    // Listed for the stack, not per service: their effect is the interpolated values, so a
    // comment in .env recreates nothing.
    Reference(dummy, name, *r, core::FileKind::kEnvFile);
  }
  vars_ = ChainLookup(MapLookup(vars), opt_.host_env);
}

void Loader::EnvFiles(const Node& v, const std::string& p, core::Service& s,
                      std::map<std::string, std::string>& env) {
  std::vector<const Node*> items;
  if (v.IsSequence()) {
    for (const auto& i : v.items) items.push_back(i.get());
  } else {
    items.push_back(&v);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Node& item = *items[i];
    std::string q = v.IsSequence() ? p + "[" + std::to_string(i) + "]" : p;
    std::string file;
    bool required = true;
    const Node* at = &item;
    if (item.IsScalar()) {
      SetStr(item, q, file);
    } else if (item.IsMap()) {
      for (const auto& e : item.entries) {
        if (e.key == "path") {
          at = e.value.get();
          SetStr(*e.value, q + ".path", file);
        } else if (e.key == "required") {
          SetBool(*e.value, q + ".required", required);
        } else if (e.key == "format") {
          std::string f;
          SetStr(*e.value, q + ".format", f);
          if (f != "raw" && f != "") Err(*e.value, q + ".format", "only the default format is supported");
        } else {
          Unsupported(e, q);
        }
      }
      if (file.empty()) Err(item, q, "needs `path`");
    } else {
      TypeErr(item, q, "a path or a mapping with `path`");
      continue;
    }
    if (file.empty()) continue;
    auto r = ResolvePath(*at, q, file, Scope::kRepoOrSecrets);
    if (!r) continue;
    if (!r->exists) {
      if (required) Err(*at, q, "env file " + r->key + " does not exist (use `required: false` if optional)");
      continue;
    }
    auto text = ReadSmall(*at, q, *r);
    if (!text) continue;
    auto entries = ParseEnvFile(*text, r->key, vars_, &value_budget_);
    if (entries) SecretValues(*r, *entries);
    if (!entries) {
      errors_.push_back(entries.error());
      continue;
    }
    for (const auto& [k, val] : *entries) env[k] = val;
    if (auto key = Reference(*at, q, *r, core::FileKind::kEnvFile)) s.files.push_back(*key);
  }
}

Lookup HostEnv(const std::vector<std::string>& names) {
  std::map<std::string, std::string> vars;
  for (const auto& n : names) {
    if (const char* v = std::getenv(n.c_str())) vars[n] = v;
  }
  return MapLookup(vars);
}

}  // namespace podcd::compose
