// What podcd tells people about a deployment (a Notice), and the HTTP request that carries it
// to one target (an Outgoing). Deciding which notices to send and shaping them are pure; the
// requests go out through a `podcd __notify` child, which alone links libcurl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::notify {

// The event words of `notify[].on`.
enum class What { kStarted, kSucceeded, kFailed, kRolledBack, kRefused, kRecovered };

// "started", "succeeded", "failed", "rolled_back", "refused", "recovered".
std::string_view ToString(What what);
std::optional<What> ParseWhat(std::string_view word);

struct StackNews {
  std::string name;
  std::string outcome;  // the record's word: "updated", "failed", "rolled-back", "refused", ...
  std::string reason;   // masked like every record line
};

struct Notice {
  What what = What::kFailed;
  std::string deployment;       // id
  std::string actor;            // who asked (the trigger's actor)
  std::string trigger;          // the trigger's kind word
  std::string commit;           // "" when the run never learned it
  std::string previous_commit;  // the commit deployed before, "" when none
  std::string reason;           // the deployment's reason, when it failed
  std::vector<StackNews> stacks;
  std::string link;  // the deployment's dashboard page ("" without http.public_url)
  std::int64_t at_ms = 0;
};

// One HTTP request to one target.
struct Outgoing {
  std::string target;  // Config::NotifyTarget::name, or "forge"
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace podcd::notify
