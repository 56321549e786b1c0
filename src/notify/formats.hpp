// The HTTP request that carries a notice to one target, in the shape its receiver expects
// (webhook, ntfy, slack, discord, gotify, apprise), and the commit statuses a forge gets
// (github, gitea, gitlab). Pure: no I/O; the caller sends what these return.
#pragma once

#include <optional>
#include <vector>

#include "config/config.hpp"
#include "notify/message.hpp"

namespace podcd::notify {

// The request that tells `target` of `notice`; nullopt for a type this build does not know
// (the configuration refuses those, so this is a guard, not a path).
std::optional<Outgoing> Render(const config::Config::NotifyTarget& target, const Notice& notice);

// The statuses that tell `forge` of `notice` on notice.commit: none without a commit or a
// forge. kStarted: `pending`; a finished deployment: `success` or `failure` per stack, each
// with its own context (podcd/<stack>, podcd/<host>/<stack> once forge.host is set).
std::vector<Outgoing> ForgeStatuses(const config::Config::Forge& forge, const Notice& notice);

}  // namespace podcd::notify
