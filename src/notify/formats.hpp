// The HTTP request that carries a notice to one target, in the shape its receiver expects
// (webhook, ntfy, slack, discord, gotify, apprise), and the commit statuses a forge gets
// (github, gitea, gitlab). Pure: no I/O; the caller sends what these return.
//
// Rules for the configuration that feeds these (src/config/ parses, these functions follow):
// - target.url: the full URL the request goes to, except
//     gotify: the server's base URL ("https://gotify.example"); "/message" is appended unless
//       the path already ends in "/message". The app token goes in target.secret (sent as
//       X-Gotify-Key), never in the URL (an URL is logged redacted, a header not at all).
//     apprise: "<server>/notify/<key>" for a configuration stored under <key>; a URL whose path
//       has no "/notify" gets "/notify/" appended (Apprise API's stateless endpoint, which sends
//       to the server's APPRISE_STATELESS_URLS); podcd never sends Apprise URLs itself.
// - target.secret: webhook: the HMAC key (X-Podcd-Signature-256); ntfy and apprise: a bearer
//   token (Authorization: Bearer); gotify: the app token; slack, discord: unused (their URL is
//   the secret: the configuration should register the URL's path with the log mask).
// - forge.api_url, when empty: github https://api.github.com; gitlab https://gitlab.com/api/v4;
//   gitea has no default (the configuration must ask for it). Gitea/Forgejo and GitLab may be
//   given the bare server ("https://git.example"): "/api/v1" (gitea) or "/api/v4" (gitlab) is
//   appended when the URL does not end in it. GitHub Enterprise: "https://ghe.example/api/v3".
//   A trailing '/' is dropped.
// - forge.repository: github, gitea: "owner/name" (each part percent-encoded into the path);
//   gitlab: the project's numeric id or its path ("group/sub/project", sent as
//   group%2Fsub%2Fproject).
// - forge.token: github "Authorization: Bearer", gitea "Authorization: token", gitlab
//   "PRIVATE-TOKEN".
// - Which notices the forge gets: every kStarted and each deployment's final notice
//   (kSucceeded, kFailed, kRolledBack, kRefused; kRecovered counts as kSucceeded), without the
//   once-per-reason dedup of notices: a status is per commit, and sending the same one twice is
//   harmless.
#pragma once

#include <optional>
#include <vector>

#include "config/config.hpp"
#include "notify/message.hpp"

namespace podcd::notify {

// The request that tells `target` of `notice`; nullopt for a type this build does not know
// (the configuration refuses those, so this is a guard, not a path).
std::optional<Outgoing> Render(const config::Config::NotifyTarget& target, const Notice& notice);

// The statuses that tell `forge` of `notice` on notice.commit: none without a forge, or without
// a commit that is a full 40- or 64-hex id. kStarted: one `pending` (GitLab: `running`) on the
// overall context `podcd` (the stacks are not known yet); a finished deployment: `success` or
// `failure` per stack on `podcd/<stack>` (`podcd/<host>/<stack>` once forge.host is set; stacks
// whose outcome is "skipped" or "suspended" get none), then the overall context (`podcd`, or
// `podcd/<host>`), each with the reason as description (at most 140 characters) and the
// notice's link as target URL.
std::vector<Outgoing> ForgeStatuses(const config::Config::Forge& forge, const Notice& notice);

// The webhook body's version (its "version" field), raised on an incompatible change.
inline constexpr int kWebhookVersion = 1;

}  // namespace podcd::notify
