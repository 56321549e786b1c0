// x-podcd.hooks (docs/hooks.md): each hook's keys read through core::HookKeys(); the service it
// names is checked once every service is read (HookServices).
#include <algorithm>
#include <variant>

#include "compose/loader_internal.hpp"

namespace podcd::compose {

namespace {

template <class T>
T& HookFieldOf(core::Hook& h, const core::HookKey& row) {
  return h.*std::get<T core::Hook::*>(row.field);
}

std::string HookNameList() {
  std::string out;
  for (auto n : core::kHookNames) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace

// `x-podcd`: podcd's own section of a compose file. Its keys are podcd's, so an unknown one is
// refused like an unknown compose key (a misspelt `hook:` would otherwise run nothing).
void Loader::PodcdSection(const Node& v) {
  const std::string path = "x-podcd";
  if (v.IsNull()) return;
  if (!v.IsMap()) return TypeErr(v, path, "a mapping");
  for (const auto& e : v.entries) {
    if (e.key == "hooks") {
      Hooks(*e.value, path + ".hooks");
    } else {
      Unsupported(e, path);
    }
  }
}

void Loader::Hooks(const Node& v, const std::string& path) {
  if (v.IsNull()) return;
  if (!v.IsMap()) return TypeErr(v, path, "a mapping");
  for (const auto& e : v.entries) {
    const std::string p = path + "." + e.key;
    if (std::find(std::begin(core::kHookNames), std::end(core::kHookNames), e.key) ==
        std::end(core::kHookNames)) {
      ErrAt(e.key_mark, p, "unknown hook " + Quoted(e.key) + " (podcd runs " + HookNameList() + ")");
      continue;
    }
    const Node& h = *e.value;
    if (!h.IsMap()) {
      TypeErr(h, p, "a mapping ({service: NAME, command: [...]})");
      continue;
    }
    core::Hook hook;
    hook.name = e.key;
    const Node* service = nullptr;
    bool has_command = false;
    for (const auto& f : h.entries) {
      const auto keys = core::HookKeys();
      auto row = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.key == f.key; });
      if (row == keys.end()) {
        Unsupported(f, p);
        continue;
      }
      const std::string q = p + "." + f.key;
      const Node& fv = *f.value;
      switch (row->parse) {
        case core::HookParseAs::kService:
          service = &fv;
          SetStr(fv, q, HookFieldOf<std::string>(hook, *row));
          break;
        case core::HookParseAs::kCommand: {
          has_command = true;
          auto command = Command(fv, q);
          if (command && command->empty()) Err(fv, q, "is empty: a hook needs a command to run");
          if (command) HookFieldOf<std::vector<std::string>>(hook, *row) = std::move(*command);
          break;
        }
        case core::HookParseAs::kDuration: {
          auto d = Duration(fv, q);
          if (d && d->count() <= 0) Err(fv, q, "must be above zero");
          if (d && d->count() > 0) HookFieldOf<core::Nanos>(hook, *row) = *d;
          break;
        }
        case core::HookParseAs::kBool: SetBool(fv, q, HookFieldOf<bool>(hook, *row)); break;
      }
    }
    if (service == nullptr) Err(h, p + ".service", "is missing: a hook names the service it runs as");
    if (!has_command) Err(h, p + ".command", "is missing: a hook needs a command to run");
    // `optional`: not a service's need of another (profiles.cpp); HookServices says it for a hook.
    if (service != nullptr) service_refs_.push_back({p, hook.service, service->mark, p + ".service", true});
    out_.hooks.push_back(std::move(hook));
  }
  auto order = [](const core::Hook& h) {
    return std::find(std::begin(core::kHookNames), std::end(core::kHookNames), h.name) -
           std::begin(core::kHookNames);
  };
  std::sort(out_.hooks.begin(), out_.hooks.end(),
            [&](const core::Hook& a, const core::Hook& b) { return order(a) < order(b); });
}

// Once profiles are known: a hook runs as an enabled service (a disabled one has no definition
// to run). Unknown services were refused with the other references.
void Loader::HookServices() {
  for (const auto& r : service_refs_) {
    if (r.path.starts_with("x-podcd.hooks.") && disabled_.contains(r.to))
      ErrAt(r.mark, r.path, "names service " + Quoted(r.to) + ", which COMPOSE_PROFILES leaves disabled");
  }
}

}  // namespace podcd::compose
