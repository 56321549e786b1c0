// What to tell, decided from the deployment events and a memory of what was told before. Pure:
// the notifier feeds it events and saves its memory; tests feed it scripted deployments.
//
// The rules (docs/notifications.md):
// - `started` for a deployment someone asked for (a push, the API, the CLI); never for a poll
//   or a sync, which run every few minutes and mostly find nothing to do.
// - A stack's failure (outcome failed or invalid: `failed`; rolled-back: `rolled_back`;
//   refused: `refused`) is told once: the same outcome with the same reason on later runs
//   tells nothing; a new reason is a new notice. A stack told failing that later comes out
//   updated or unchanged is told `recovered`, once.
// - A deployment that failed before any stack (the sync, the repository) is a `failed` of its
//   own, remembered the same way, and `recovered` once a later deployment gets past it.
// - The forge: `pending` on a stack's context when it starts being applied (kStackStarted, only
//   for stacks the plan changes), unless the forge shows that commit settled for it already;
//   each stack's end when the deployment ends.
// - `succeeded` for a succeeded deployment that changed a stack, or that someone asked for;
//   a poll that changed nothing tells nothing. Superseded runs tell nothing (the run that
//   does their work tells), nor does a run interrupted by podcd's own stop.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "events/bus.hpp"
#include "notify/message.hpp"
#include "util/error.hpp"

namespace podcd::notify {

// What was told, kept across restarts (<state_dir>/notify.json): a restart neither repeats a
// failure nor forgets to tell its recovery.
struct Memory {
  // Stack -> "<outcome>: <reason>" of the failure told last.
  std::map<std::string, std::string> failing;
  // The deployment-level failure told last ("" when none).
  std::string deployment_failure;
  // The final forge status of each stack told last ("<stack>" -> "<commit> success|failure"),
  // so that a run that ends the same on the same commit (after a restart too) tells the forge
  // nothing.
  std::map<std::string, std::string> forge;

  bool operator==(const Memory&) const = default;
};

std::string ToJson(const Memory& memory);
// An unreadable memory is an error; the caller starts afresh (and may tell a failure twice).
Expected<Memory> MemoryFromJson(std::string_view text);

// What the caller knows beyond the event.
struct Context {
  std::string public_url;       // http.public_url ("" leaves links out)
  std::string previous_commit;  // the commit of the last succeeded deployment before this one
};

// What one event tells: the notices for the `notify:` targets and those for the forge.
struct Told {
  std::vector<Notice> notices;
  std::vector<Notice> forge;
  bool memory_changed = false;
};

// The stack outcomes that count as a failure of the stack, and what they tell.
std::optional<What> FailureOf(std::string_view outcome);

class Teller {
 public:
  explicit Teller(Memory memory = {}) : memory_(std::move(memory)) {}
  Told OnEvent(const events::Event& event, const Context& context);
  [[nodiscard]] const Memory& memory() const { return memory_; }

 private:
  Told OnStarted(const state::Deployment& d, const Context& context);
  Told OnStackStarted(const state::Deployment& d, const std::string& stack, const Context& context);
  Told OnFinished(const state::Deployment& d, const Context& context);
  void ForgeEnd(const state::Deployment& d, const Context& context, const std::vector<std::string>& pending,
                bool was_pending, Told& told);

  Memory memory_;
  // The deployments told `pending`, and the stacks of each the forge shows pending (each waits
  // for the deployment's end, as does the overall context). In memory only: a deployment does
  // not outlive the daemon that ran it.
  std::map<std::string, std::vector<std::string>> pending_;
};

// The notice as `target` gets it: nullopt when its `on` or `stacks` leave it out; otherwise
// only the stacks it asked for.
std::optional<Notice> ForTarget(const config::Config::NotifyTarget& target, const Notice& notice);

// "<public_url>/deployments/<id>", "" without a public URL.
std::string LinkTo(std::string_view public_url, std::string_view deployment);

}  // namespace podcd::notify
