#include "reconcile/select.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace podcd::reconcile {
namespace {

using Kind = StackChoice::Kind;

std::string JoinReasons(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

// The service of `stack` whose container this podcd is, if any (ids full or short).
const core::ServicePlan* OwnService(const core::StackPlan& stack, const std::string& own_container) {
  if (own_container.empty()) return nullptr;
  for (const auto& s : stack.services) {
    for (const auto& id : s.containers) {
      if (!id.empty() && (id.starts_with(own_container) || own_container.starts_with(id))) return &s;
    }
  }
  return nullptr;
}

// A stack to run; `named`: the trigger named stacks (back-off does not apply then).
StackChoice Prepare(const core::StackPlan& sp, const SelectRequest& request, bool named) {
  StackChoice c{&sp, Kind::kApply, "", false, false};
  if (sp.action == core::Action::kRemove) {
    c.kind = Kind::kPrune;
    return c;
  }
  if (auto wait = request.backing_off.find(sp.name); wait != request.backing_off.end() && !named) {
    // The same stack failed at this very fingerprint: not again on every trigger or poll. It is
    // retried when its fingerprint changes, when the back-off ends, or when named.
    c.kind = Kind::kBackoff;
    c.reason = "failed before at this fingerprint; retried when it changes, on an explicit redeploy, or in " +
               std::to_string(wait->second.count() / 1000) + " s";
    return c;
  }
  if (sp.name != request.self) return c;
  c.self = true;
  const core::ServicePlan* own = OwnService(sp, request.own_container);
  if (own == nullptr) {
    // Only the podcd that runs from its own stack may replace it (through the updater); any
    // other would start a second podcd that fights it over the port and the state.
    c.kind = Kind::kSkip;
    c.reason = request.own_container.empty()
                   ? "this podcd does not run in a container"
                   : "this podcd's container " + request.own_container.substr(0, 12) + " is not one of its";
    return c;
  }
  // Replacing this very container would stop this process half-way: an updater does it.
  c.hand_over = own->action != core::Action::kUnchanged || request.update_images;
  return c;
}

}  // namespace

Selection SelectStacks(const core::PlanResult& plan, const SelectRequest& request) {
  Selection out;
  const std::set<std::string> named(request.named.begin(), request.named.end());
  for (const auto& n : named) {
    if (!plan.Find(n)) {
      out.unknown = n;
      return out;
    }
  }
  std::vector<const core::StackPlan*> todo;
  for (const auto& sp : plan.stacks) {
    if (!named.empty() && !named.contains(sp.name)) continue;
    if (auto why = request.suspended.find(sp.name); why != request.suspended.end()) {
      // Whatever changed, whatever asks: an operator said to leave it alone.
      out.reported.push_back({&sp, Kind::kSuspended, why->second, false, false});
      if (named.contains(sp.name)) out.refused_suspended.push_back(sp.name);
      continue;
    }
    if (sp.action == core::Action::kInvalid || sp.action == core::Action::kRefused) {
      out.reported.push_back({&sp, Kind::kInvalid, JoinReasons(sp.reasons), false, false});
    } else if (sp.action == core::Action::kRemove) {
      if (request.prune)
        todo.push_back(&sp);
      else
        out.reported.push_back({&sp, Kind::kKept, "", false, false});
    } else if (!named.empty() || sp.NeedsApply() || request.update_images) {
      todo.push_back(&sp);
    }
  }
  // podcd's own stack goes last: replacing it stops this process.
  std::stable_partition(todo.begin(), todo.end(), [&](const auto* sp) { return sp->name != request.self; });
  for (const auto* sp : todo) out.run.push_back(Prepare(*sp, request, !named.empty()));
  return out;
}

StackSchedule ScheduleStacks(const std::vector<StackNetworks>& stacks) {
  const std::size_t n = stacks.size();
  std::map<std::string, std::set<std::size_t>> creators;  // network name -> the stacks creating it
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& net : stacks[i].creates) creators[net].insert(i);
  }
  std::vector<std::set<std::size_t>> needs(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& name : stacks[i].uses) {
      if (auto it = creators.find(name); it != creators.end()) {
        for (auto j : it->second) {
          if (j != i) needs[i].insert(j);
        }
      }
    }
  }
  // Kahn's algorithm, ties in the given order; what is left (cycles) follows in the given order.
  std::vector<std::size_t> order;
  std::vector<bool> placed(n, false);
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      if (std::all_of(needs[i].begin(), needs[i].end(), [&](auto j) { return placed[j]; })) {
        placed[i] = true;
        order.push_back(i);
        progress = true;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!placed[i]) order.push_back(i);
  }
  StackSchedule s;
  s.order = order;
  std::vector<std::size_t> position(n);
  for (std::size_t p = 0; p < n; ++p) position[order[p]] = p;
  s.after.resize(n);
  for (std::size_t p = 0; p < n; ++p) {
    for (auto j : needs[order[p]]) {
      if (position[j] < p) s.after[p].push_back(position[j]);
    }
    std::sort(s.after[p].begin(), s.after[p].end());
  }
  return s;
}

}  // namespace podcd::reconcile
