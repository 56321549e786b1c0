// The words of a notice for people: one plain-text summary shared by every chat-like target
// (ntfy, slack, discord, gotify, apprise), a title, and the cuts that keep text inside a
// receiver's limits without splitting a character. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "notify/message.hpp"

namespace podcd::notify {

// What a summary may hold at most, in characters (code points), and each stack's part of it.
inline constexpr std::size_t kSummaryMax = 1000;
inline constexpr std::size_t kStackPartMax = 200;
// Stacks named in a summary; the rest are counted ("and 3 more").
inline constexpr std::size_t kSummaryStacks = 5;

// "podcd: deployment 42 failed on abc1234 (web: failed: health check timed out)". Every text
// field of the notice is already masked by the caller; this adds nothing but podcd's own words.
// Stacks that did not fail come after the ones that did. At most `max` characters.
[[nodiscard]] std::string Summary(const Notice& notice, std::size_t max = kSummaryMax);

// "podcd: deployment 42 failed": short, ASCII-safe words for a title line or header.
[[nodiscard]] std::string Title(const Notice& notice);

// `text` (repaired to valid UTF-8) cut to at most `max` characters, "…" in place of the cut
// tail. A character is counted as UTF-16 counts it (a code point past U+FFFF counts two), so the
// result fits limits counted either in code points or in UTF-16 units (Discord's 2000).
[[nodiscard]] std::string Truncate(std::string_view text, std::size_t max);

// `text` fit for an HTTP header value: control characters (CR, LF, ...) become spaces, so no
// field can add a header of its own; at most `max` bytes, cut on a character boundary.
[[nodiscard]] std::string HeaderValue(std::string_view text, std::size_t max = 256);

// True for a stack outcome (the record's word) that means the stack did not get where it was
// asked to go: failed, rolled-back, invalid, refused, backoff.
[[nodiscard]] bool FailedOutcome(std::string_view outcome);

// The first 7 characters of a commit id ("" stays "").
[[nodiscard]] std::string_view ShortCommit(std::string_view commit);

}  // namespace podcd::notify
