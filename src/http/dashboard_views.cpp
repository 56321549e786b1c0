#include "http/dashboard_views.hpp"

#include <algorithm>

namespace podcd::http {
namespace {

bool Touches(const state::Deployment& d, std::string_view stack) {
  const auto& named = d.trigger.stacks;
  if (std::find(named.begin(), named.end(), stack) != named.end()) return true;
  return std::any_of(d.stacks.begin(), d.stacks.end(), [&](const auto& s) { return s.name == stack; });
}

}  // namespace

web::DeploymentSummary SummaryOf(const state::Deployment& d) {
  web::DeploymentSummary s;
  s.id = d.id;
  s.state = std::string(state::ToString(d.state));
  s.trigger = d.trigger.KindWord();
  s.actor = d.trigger.actor;
  s.commit = d.commit;
  s.reason = d.reason;
  s.queued_ms = d.queued_at_ms;
  s.finished_ms = d.finished_at_ms;
  for (const auto& st : d.stacks) s.stacks.emplace_back(st.name, st.outcome);
  return s;
}

web::DeploymentView DeploymentViewOf(const state::Deployment& d, std::int64_t now_ms) {
  web::DeploymentView v;
  v.id = d.id;
  v.state = std::string(state::ToString(d.state));
  v.trigger = d.trigger.KindWord();
  v.actor = d.trigger.actor;
  v.event = d.trigger.event;
  v.delivery_id = d.trigger.delivery_id;
  v.named_stacks = d.trigger.stacks;
  v.all_changed = d.trigger.all_changed;
  v.pull = d.trigger.pull;
  v.commit = d.commit;
  v.reason = d.reason;
  v.superseded_by = d.superseded_by;
  v.queued_ms = d.queued_at_ms;
  v.started_ms = d.started_at_ms;
  v.finished_ms = d.finished_at_ms;
  for (const auto& st : d.stacks) v.stacks.push_back({st.name, st.outcome, st.reason, st.duration_ms});
  v.log = d.log;
  v.now_ms = now_ms;
  return v;
}

std::vector<web::ServiceView> ServicesOf(const StackInfo& info) {
  std::vector<web::ServiceView> out;
  out.reserve(info.services.size());
  for (const auto& s : info.services) out.push_back({s.name, s.container, s.status, s.health, s.image});
  return out;
}

web::StackView StackViewOf(const StackInfo& info, const state::Deployment* last) {
  web::StackView s;
  s.name = info.name;
  s.state = info.state;
  s.commit = info.commit;
  s.last_deployment = info.last_deployment;
  s.services = ServicesOf(info);
  s.suspended = info.suspended.has_value();
  if (info.pinned) s.pinned_commit = info.pinned->commit;
  if (!info.reasons.empty() && info.state != "in-sync") s.reason = info.reasons.front();
  if (last) {
    s.last_deployment_ms = last->started_at_ms != 0 ? last->started_at_ms : last->queued_at_ms;
    for (const auto& outcome : last->stacks) {
      if (outcome.name != info.name) continue;
      s.last_outcome = outcome.outcome;
      if (s.reason.empty() && info.state != "in-sync")
        s.reason = outcome.reason.substr(0, outcome.reason.find('\n'));
    }
  }
  return s;
}

web::StackPageView StackPageOf(const StackInfo& info, const std::vector<state::Deployment>& recent,
                               std::int64_t now_ms) {
  web::StackPageView v;
  v.name = info.name;
  v.state = info.state;
  v.commit = info.commit;
  v.services = ServicesOf(info);
  if (info.suspended) {
    v.suspended = true;
    v.suspended_by = info.suspended->by;
    v.suspended_ms = info.suspended->at_ms;
  }
  if (info.pinned) {
    v.pinned_commit = info.pinned->commit;
    v.pinned_deployment = info.pinned->deployment;
    v.pinned_by = info.pinned->by;
    v.pinned_ms = info.pinned->at_ms;
  }
  for (const auto& c : info.changes)
    v.changes.push_back({c.service, c.field, c.change, c.old_value, c.new_value});
  // A reason that is no field change (a refusal, an invalid file) is shown as such.
  if (v.changes.empty()) {
    for (const auto& r : info.reasons) v.changes.push_back({"", "", r, std::nullopt, std::nullopt});
  }
  v.notes = info.notes;
  for (const auto& d : recent) {
    if (!Touches(d, info.name)) continue;
    web::StackDeploymentView row{
        d.id, std::string(state::ToString(d.state)), "", "", d.trigger.actor, d.commit, d.queued_at_ms};
    for (const auto& st : d.stacks) {
      if (st.name != info.name) continue;
      row.outcome = st.outcome;
      row.reason = st.reason;
    }
    v.deployments.push_back(std::move(row));
    if (v.deployments.size() >= 20) break;
  }
  v.now_ms = now_ms;
  return v;
}

web::DeliveryView DeliveryViewOf(const DeliveryEntry& e) {
  const bool accepted = e.outcome != "rejected";
  std::string reason = e.reason;
  if (accepted && reason.empty()) reason = e.outcome;
  return {e.at_ms, e.client, e.path, e.event, e.delivery, accepted, reason, e.deployment};
}

bool Matches(const state::Deployment& d, const web::DeploymentFilter& filter) {
  if (!filter.state.empty() && state::ToString(d.state) != filter.state) return false;
  if (!filter.actor.empty() && !d.trigger.actor.starts_with(filter.actor)) return false;
  return filter.stack.empty() || Touches(d, filter.stack);
}

}  // namespace podcd::http
