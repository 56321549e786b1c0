#include "notify/notices.hpp"

#include <algorithm>

#include "util/json.hpp"

namespace podcd::notify {
namespace {

constexpr int kVersion = 1;

using state::DeploymentState;
using state::TriggerKind;

// A poll or a sync runs on its own every few minutes: its start is no news.
bool AskedFor(const state::Trigger& t) {
  return t.kind != TriggerKind::kPoll && t.kind != TriggerKind::kSync;
}

// Outcomes after which a stack runs what the repository says.
bool Healthy(std::string_view outcome) { return outcome == "updated" || outcome == "unchanged"; }

// Outcomes the forge hears of: the stack was worked on (or should have been, and failed).
bool ForgeNews(std::string_view outcome) {
  return outcome == "updated" || outcome == "removed" || FailureOf(outcome).has_value();
}

StackNews NewsOf(const state::StackOutcome& s) { return {s.name, s.outcome, s.reason}; }

Notice Base(What what, const state::Deployment& d, const Context& c) {
  Notice n;
  n.what = what;
  n.deployment = d.id;
  n.actor = d.trigger.actor;
  n.trigger = d.trigger.KindWord();
  n.commit = d.commit;
  n.previous_commit = c.previous_commit;
  n.link = LinkTo(c.public_url, d.id);
  n.at_ms = d.finished_at_ms > 0 ? d.finished_at_ms : d.started_at_ms;
  return n;
}

std::string FailureKey(const state::StackOutcome& s) { return s.outcome + ": " + s.reason; }

}  // namespace

std::optional<What> FailureOf(std::string_view outcome) {
  if (outcome == "failed" || outcome == "invalid") return What::kFailed;
  if (outcome == "rolled-back") return What::kRolledBack;
  if (outcome == "refused") return What::kRefused;
  return std::nullopt;
}

std::string LinkTo(std::string_view public_url, std::string_view deployment) {
  if (public_url.empty()) return {};
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  return std::string(public_url) + "/deployments/" + std::string(deployment);
}

std::string ToJson(const Memory& memory) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "version", kVersion);
  w.Key("failing");
  w.StartObject();
  for (const auto& [stack, key] : memory.failing) json::Str(w, stack, key);
  w.EndObject();
  json::Str(w, "deployment_failure", memory.deployment_failure);
  w.Key("forge");
  w.StartObject();
  for (const auto& [stack, key] : memory.forge) json::Str(w, stack, key);
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<Memory> MemoryFromJson(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return Fail(ErrorCode::kInvalidArgument, "not a JSON object");
  Memory m;
  auto strings = [&doc](const char* key, std::map<std::string, std::string>& into) {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsObject()) return;
    for (const auto& member : it->value.GetObject()) {
      if (!member.value.IsString()) continue;
      into[std::string(member.name.GetString(), member.name.GetStringLength())] =
          std::string(member.value.GetString(), member.value.GetStringLength());
    }
  };
  strings("failing", m.failing);
  strings("forge", m.forge);
  m.deployment_failure = json::GetStr(doc, "deployment_failure");
  return m;
}

Told Teller::OnEvent(const events::Event& event, const Context& context) {
  switch (event.kind) {
    case events::Kind::kStarted: return OnStarted(event.deployment, context);
    case events::Kind::kStackStarted:
      if (event.stack) return OnStackStarted(event.deployment, event.stack->name, context);
      return {};
    case events::Kind::kFinished: return OnFinished(event.deployment, context);
    // A stack's outcome is told with the deployment's end (the forge's final statuses too).
    case events::Kind::kStack:
    case events::Kind::kQueued: return {};
  }
  return {};
}

Told Teller::OnStarted(const state::Deployment& d, const Context& context) {
  Told told;
  if (!AskedFor(d.trigger)) return told;
  Notice n = Base(What::kStarted, d, context);
  for (const auto& s : d.trigger.stacks) n.stacks.push_back({s, "", ""});
  told.notices.push_back(std::move(n));
  return told;
}

Told Teller::OnStackStarted(const state::Deployment& d, const std::string& stack, const Context& context) {
  Told told;
  if (d.commit.empty()) return told;
  // The forge shows this commit settled for the stack (an earlier run of it, before a restart
  // too): a pending would turn that back into a question. The end tells it if it ends otherwise.
  if (auto it = memory_.forge.find(stack);
      it != memory_.forge.end() && it->second.starts_with(d.commit + " "))
    return told;
  auto [it, first] = pending_.try_emplace(d.id);
  it->second.push_back(stack);
  if (first) told.forge.push_back(Base(What::kStarted, d, context));  // the overall context
  Notice n = Base(What::kStarted, d, context);
  n.stacks.push_back({stack, "pending", ""});
  told.forge.push_back(std::move(n));
  return told;
}

// Once the forge was told pending, or when a stack worked on is not shown as it ends, every
// stack worked on gets its final status (a stack shown pending always does, whatever its
// outcome: it must not stay pending).
void Teller::ForgeEnd(const state::Deployment& d, const Context& context,
                      const std::vector<std::string>& pending, bool was_pending, Told& told) {
  if (d.commit.empty()) return;
  Notice f = Base(d.state == DeploymentState::kSucceeded ? What::kSucceeded : What::kFailed, d, context);
  bool news = was_pending;
  for (const auto& s : d.stacks) {
    if (!ForgeNews(s.outcome) && std::find(pending.begin(), pending.end(), s.name) == pending.end()) continue;
    const std::string key = d.commit + (FailureOf(s.outcome) ? " failure" : " success");
    auto& told_key = memory_.forge[s.name];
    if (told_key != key) {
      news = true;
      told.memory_changed = true;
      told_key = key;
    }
    f.stacks.push_back(NewsOf(s));
  }
  if (news && !f.stacks.empty()) told.forge.push_back(std::move(f));
}

Told Teller::OnFinished(const state::Deployment& d, const Context& context) {
  Told told;
  std::vector<std::string> pending;  // the stacks the forge shows pending
  const auto waiting = pending_.find(d.id);
  const bool was_pending = waiting != pending_.end();
  if (was_pending) {
    pending = std::move(waiting->second);
    pending_.erase(waiting);
  }
  if (d.state == DeploymentState::kSuperseded) return told;
  if (d.state == DeploymentState::kFailed && d.reason == "interrupted") return told;
  ForgeEnd(d, context, pending, was_pending, told);

  // Each stack's failure once, per outcome word; each recovery once.
  std::map<What, Notice> by_what;
  auto add = [&](What what, StackNews news) {
    auto [it, fresh] = by_what.try_emplace(what, Base(what, d, context));
    if (fresh && what != What::kRecovered) it->second.reason = d.reason;
    it->second.stacks.push_back(std::move(news));
  };
  bool changed = false;
  for (const auto& s : d.stacks) {
    if (s.outcome == "updated" || s.outcome == "removed") changed = true;
    if (auto what = FailureOf(s.outcome)) {
      const std::string key = FailureKey(s);
      auto it = memory_.failing.find(s.name);
      if (it != memory_.failing.end() && it->second == key) continue;
      memory_.failing[s.name] = key;
      told.memory_changed = true;
      add(*what, NewsOf(s));
    } else if (Healthy(s.outcome) || s.outcome == "removed") {
      if (memory_.failing.erase(s.name) == 0) continue;
      told.memory_changed = true;
      // A stack removed from the repository is gone, not recovered.
      if (s.outcome != "removed") add(What::kRecovered, NewsOf(s));
    }
  }

  // A failure before any stack: the deployment's own, told once as well.
  const bool own_failure = d.state == DeploymentState::kFailed && d.stacks.empty();
  if (own_failure) {
    if (memory_.deployment_failure != d.reason) {
      memory_.deployment_failure = d.reason;
      told.memory_changed = true;
      Notice n = Base(What::kFailed, d, context);
      n.reason = d.reason;
      told.notices.push_back(std::move(n));
    }
  } else if (!memory_.deployment_failure.empty()) {
    memory_.deployment_failure.clear();
    told.memory_changed = true;
    if (by_what.find(What::kRecovered) == by_what.end())
      told.notices.push_back(Base(What::kRecovered, d, context));
  }

  for (auto& [what, n] : by_what) told.notices.push_back(std::move(n));
  if (d.state == DeploymentState::kSucceeded && (changed || AskedFor(d.trigger))) {
    Notice n = Base(What::kSucceeded, d, context);
    for (const auto& s : d.stacks) n.stacks.push_back(NewsOf(s));
    told.notices.push_back(std::move(n));
  }
  return told;
}

std::optional<Notice> ForTarget(const config::Config::NotifyTarget& target, const Notice& notice) {
  const std::string_view word = ToString(notice.what);
  if (std::find(target.on.begin(), target.on.end(), word) == target.on.end()) return std::nullopt;
  if (target.stacks.empty() || notice.stacks.empty()) return notice;
  Notice out = notice;
  std::erase_if(out.stacks, [&](const StackNews& s) {
    return std::find(target.stacks.begin(), target.stacks.end(), s.name) == target.stacks.end();
  });
  if (out.stacks.empty()) return std::nullopt;
  return out;
}

}  // namespace podcd::notify
