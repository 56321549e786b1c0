#include "core/plan.hpp"

#include <algorithm>
#include <set>

namespace podcd::core {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == ';')
      out += "%3B";
    else if (c == '=')
      out += "%3D";
    else
      out.push_back(c);
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto code = s.substr(i + 1, 2);
      if (code == "25")
        out.push_back('%');
      else if (code == "3B")
        out.push_back(';');
      else if (code == "3D")
        out.push_back('=');
      else {
        out.push_back('%');
        continue;
      }
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "environment.FOO changed", "file services/web/x added", ... sorted by field name.
std::vector<std::string> FieldReasons(const std::map<std::string, std::string>& before,
                                      const std::map<std::string, std::string>& after) {
  std::vector<std::string> out;
  // Hashes under another key (or an older podcd's unkeyed ones) all differ: naming every field
  // would say nothing. Neither side keyed (tests, hand-made labels): compared as they are.
  auto key_of = [](const std::map<std::string, std::string>& m) {
    auto it = m.find(std::string(kFieldKeyId));
    return it == m.end() ? std::string() : it->second;
  };
  if (key_of(before) != key_of(after)) return out;
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    if (it == before.end())
      out.push_back(k + " added");
    else if (it->second != v)
      out.push_back(k + " changed");
  }
  for (const auto& [k, v] : before) {
    if (!after.contains(k)) out.push_back(k + " removed");
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsWork(Action a) { return a == Action::kCreate || a == Action::kRecreate || a == Action::kRemove; }

void PlanService(const DesiredService& want, const std::vector<const ActualContainer*>& have,
                 ServicePlan& sp) {
  sp.name = want.name;
  for (const auto* c : have) sp.containers.push_back(c->id);
  if (have.empty()) {
    sp.action = Action::kCreate;
    sp.reasons.push_back("no container");
    return;
  }
  if (have.size() > 1) {
    sp.action = Action::kRecreate;
    sp.reasons.push_back(std::to_string(have.size()) + " containers for one service");
    return;
  }
  const ActualContainer& c = *have.front();
  if (c.fingerprint != want.fingerprint) {
    sp.action = Action::kRecreate;
    sp.reasons = FieldReasons(c.field_hashes, want.field_hashes);
    if (sp.reasons.empty()) sp.reasons.push_back("fingerprint changed");
    return;
  }
  if (!c.running) {
    // A one-shot service (restart: no) that finished successfully is done, not drifted.
    bool completed = want.restart == "no" && c.status == "exited" && c.exit_code == 0;
    if (!completed) {
      sp.action = Action::kRecreate;
      sp.reasons.push_back("container " + c.name + " is " + (c.status.empty() ? "not running" : c.status) +
                           (c.status == "exited" ? " (exit code " + std::to_string(c.exit_code) + ")" : ""));
      return;
    }
  }
  sp.action = Action::kUnchanged;
}

StackPlan PlanStack(const DesiredStack& want, const std::vector<const ActualContainer*>& have) {
  StackPlan st;
  st.name = want.name;
  st.notes = want.notes;
  for (const auto* c : have) {
    if (c->temporary) st.leftovers.push_back(c->id);
  }
  if (want.status != StackStatus::kOk) {
    st.action = want.status == StackStatus::kInvalid ? Action::kInvalid : Action::kRefused;
    st.reasons = want.problems;
    return st;
  }
  std::vector<DesiredService> services = want.services;
  std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::set<std::string> desired_names;
  for (const auto& s : services) {
    desired_names.insert(s.name);
    std::vector<const ActualContainer*> mine;
    for (const auto* c : have) {
      if (!c->temporary && c->service == s.name) mine.push_back(c);
    }
    PlanService(s, mine, st.services.emplace_back());
  }
  // A service recreated with its dependency (compose recreates it too): repeat to a fixpoint.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < services.size(); ++i) {
      auto& sp = st.services[i];
      if (sp.action != Action::kUnchanged) continue;
      for (const auto& dep : services[i].recreate_with) {
        auto it = std::find_if(st.services.begin(), st.services.end(),
                               [&](const auto& o) { return o.name == dep; });
        if (it != st.services.end() && (it->action == Action::kCreate || it->action == Action::kRecreate)) {
          sp.action = Action::kRecreate;
          sp.reasons.push_back("dependency " + dep + " recreated");
          changed = true;
          break;
        }
      }
    }
  }
  // Containers of services no longer in the compose file.
  std::map<std::string, ServicePlan> orphans;
  for (const auto* c : have) {
    if (c->temporary || desired_names.contains(c->service)) continue;
    auto& o = orphans[c->service];
    o.name = c->service;
    o.action = Action::kRemove;
    o.containers.push_back(c->id);
    if (o.reasons.empty()) {
      const bool disabled =
          std::find(want.disabled.begin(), want.disabled.end(), c->service) != want.disabled.end();
      o.reasons.push_back(disabled ? "service not enabled: none of its profiles is in COMPOSE_PROFILES"
                                   : "service removed from the compose file");
    }
  }
  for (auto& [name, o] : orphans) st.services.push_back(std::move(o));

  bool any_container = std::any_of(have.begin(), have.end(), [](const auto* c) { return !c->temporary; });
  bool work = false;
  for (const auto& sp : st.services) {
    if (!IsWork(sp.action)) continue;
    work = true;
    for (const auto& r : sp.reasons) st.reasons.push_back(sp.name + ": " + r);
  }
  st.action = !work ? Action::kUnchanged : any_container ? Action::kRecreate : Action::kCreate;
  const auto retired = static_cast<std::size_t>(
      std::count_if(have.begin(), have.end(), [](const auto* c) { return IsRetiredName(c->name); }));
  if (st.leftovers.size() > retired) {
    st.reasons.push_back(std::to_string(st.leftovers.size() - retired) +
                         " temporary container(s) left by an interrupted deployment");
  }
  if (retired > 0) {
    st.reasons.push_back(std::to_string(retired) +
                         " old container(s) kept stopped after a failed removal, to be removed");
  }
  return st;
}

}  // namespace

std::string_view ToString(Action action) {
  switch (action) {
    case Action::kCreate: return "create";
    case Action::kRecreate: return "recreate";
    case Action::kUnchanged: return "unchanged";
    case Action::kRemove: return "remove";
    case Action::kRefused: return "refused";
    case Action::kInvalid: return "invalid";
  }
  return "unknown";
}

bool StackPlan::NeedsApply() const {
  return action == Action::kCreate || action == Action::kRecreate || !leftovers.empty();
}

bool PlanResult::HasWork() const {
  return std::any_of(stacks.begin(), stacks.end(),
                     [](const StackPlan& s) { return s.NeedsApply() || s.action == Action::kRemove; });
}

const StackPlan* PlanResult::Find(std::string_view stack) const {
  for (const auto& s : stacks) {
    if (s.name == stack) return &s;
  }
  return nullptr;
}

PlanResult Plan(const std::vector<DesiredStack>& desired, const std::vector<ActualContainer>& actual) {
  std::map<std::string, std::vector<const ActualContainer*>> by_stack;
  for (const auto& c : actual) by_stack[c.stack].push_back(&c);
  for (auto& [name, list] : by_stack) {
    std::sort(list.begin(), list.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  }
  PlanResult result;
  std::set<std::string> desired_names;
  for (const auto& want : desired) {
    desired_names.insert(want.name);
    auto it = by_stack.find(want.name);
    static const std::vector<const ActualContainer*> kNone;
    result.stacks.push_back(PlanStack(want, it == by_stack.end() ? kNone : it->second));
  }
  for (const auto& [name, list] : by_stack) {
    if (desired_names.contains(name)) continue;
    StackPlan st;
    st.name = name;
    st.action = Action::kRemove;
    st.reasons.push_back("stack removed from the repository");
    std::map<std::string, ServicePlan> services;
    for (const auto* c : list) {
      if (c->temporary) {
        st.leftovers.push_back(c->id);
        continue;
      }
      auto& sp = services[c->service];
      sp.name = c->service;
      sp.action = Action::kRemove;
      sp.containers.push_back(c->id);
      if (sp.reasons.empty()) sp.reasons.push_back("stack removed from the repository");
    }
    for (auto& [n, sp] : services) st.services.push_back(std::move(sp));
    result.stacks.push_back(std::move(st));
  }
  std::sort(result.stacks.begin(), result.stacks.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return result;
}

std::string EncodeFieldHashes(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back(';');
    out += Escape(k);
    out.push_back('=');
    out += Escape(v);
  }
  return out;
}

std::map<std::string, std::string> DecodeFieldHashes(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto semi = text.find(';');
    auto item = text.substr(0, semi);
    auto eq = item.find('=');
    if (eq != std::string_view::npos) out[Unescape(item.substr(0, eq))] = Unescape(item.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  return out;
}

bool IsTemporaryName(std::string_view name) {
  return name.ends_with(kTemporarySuffix) || IsRetiredName(name);
}

bool IsRetiredName(std::string_view name) { return name.ends_with(kRetiredSuffix); }

std::string TemporaryName(std::string_view final_name) {
  return std::string(final_name) + std::string(kTemporarySuffix);
}

std::string RetiredName(std::string_view final_name) {
  return std::string(final_name) + std::string(kRetiredSuffix);
}

std::string FinalName(std::string_view temporary_name) {
  for (auto suffix : {kTemporarySuffix, kRetiredSuffix}) {
    if (temporary_name.ends_with(suffix))
      return std::string(temporary_name.substr(0, temporary_name.size() - suffix.size()));
  }
  return std::string(temporary_name);
}

}  // namespace podcd::core
