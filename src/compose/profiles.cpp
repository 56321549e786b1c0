#include <algorithm>

#include "compose/loader_internal.hpp"

namespace podcd::compose {

namespace {

// COMPOSE_PROFILES as docker compose reads it: comma-separated, blanks around names dropped.
std::set<std::string> ActiveProfiles(const std::optional<std::string>& value) {
  std::set<std::string> out;
  if (!value) return out;
  std::size_t start = 0;
  while (start <= value->size()) {
    std::size_t comma = value->find(',', start);
    if (comma == std::string::npos) comma = value->size();
    std::string name = value->substr(start, comma - start);
    const auto first = name.find_first_not_of(" \t");
    name = first == std::string::npos ? std::string()
                                      : name.substr(first, name.find_last_not_of(" \t") - first + 1);
    if (!name.empty()) out.insert(std::move(name));
    start = comma + 1;
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

// Compose's rule (compose-go's WithProfiles, then its consistency check, as `docker compose
// up` runs them): a service without profiles is enabled; one with profiles only when
// COMPOSE_PROFILES names one of them ("*" names all). Every service is read and checked;
// a disabled one is left out of the model at the end of Resolve. An enabled service may
// not need a disabled one: compose refuses that project ("depends on undefined service")
// unless the dependency says `required: false`, and so does podcd, naming both.
void Loader::FindDisabled() {
  const auto active = ActiveProfiles(vars_("COMPOSE_PROFILES"));
  for (const auto& s : out_.services) {
    const bool enabled = s.profiles.empty() || active.contains("*") ||
                         std::any_of(s.profiles.begin(), s.profiles.end(),
                                     [&](const std::string& p) { return active.contains(p); });
    if (!enabled) disabled_.insert(s.name);
  }
  if (disabled_.empty()) return;
  const std::string setting = vars_("COMPOSE_PROFILES")
                                  ? "COMPOSE_PROFILES is " + Quoted(*vars_("COMPOSE_PROFILES"))
                                  : "COMPOSE_PROFILES is not set";
  auto needs = [&](const std::string& from, const std::string& to, const tree::Mark& mark,
                   const std::string& path, bool depends_on) {
    if (disabled_.contains(from) || !disabled_.contains(to)) return;
    const core::Service* target = out_.Find(to);
    ErrAt(mark, path,
          "service " + Quoted(from) + " needs service " + Quoted(to) +
              ", which is not enabled: none of its profiles (" + JoinComma(target->profiles) +
              ") is active (" + setting + " in the stack's .env); activate one" +
              (depends_on ? ", or make the dependency `required: false`" : ""));
  };
  for (const auto& r : service_refs_) {
    if (!r.optional) needs(r.from, r.to, r.mark, r.path, r.path != "network_mode");
  }
  for (const auto& s : out_.services) {
    const tree::Mark& mark = marks_[s.name];
    const std::string path = "services." + s.name;
    for (const auto* key : {"pid", "ipc"}) {
      const std::string& mode = std::string_view(key) == "pid" ? s.pid : s.ipc;
      if (mode.starts_with("service:")) needs(s.name, mode.substr(8), mark, path + "." + key, false);
    }
    for (const auto& l : s.links) needs(s.name, l.substr(0, l.find(':')), mark, path + ".links", false);
  }
}

// The disabled services leave the model; their names stay, so that a plan can say why their
// containers go.
void Loader::DropDisabled() {
  std::erase_if(out_.services, [&](const core::Service& s) { return disabled_.contains(s.name); });
  out_.disabled.assign(disabled_.begin(), disabled_.end());
}

}  // namespace podcd::compose
