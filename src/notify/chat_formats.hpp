// The chat-like targets (ntfy, slack, discord, gotify, apprise): each carries the same plain
// text (notify/text.hpp) in the shape its receiver takes. Internal to podcd_notify: Render
// dispatches here.
#pragma once

#include "config/config.hpp"
#include "notify/message.hpp"

namespace podcd::notify {

using Target = config::Config::NotifyTarget;

Outgoing Ntfy(const Target& target, const Notice& notice);
Outgoing Slack(const Target& target, const Notice& notice);
Outgoing Discord(const Target& target, const Notice& notice);
Outgoing Gotify(const Target& target, const Notice& notice);
Outgoing Apprise(const Target& target, const Notice& notice);

// Discord refuses a message's content past 2000 characters.
inline constexpr std::size_t kDiscordMax = 2000;

}  // namespace podcd::notify
