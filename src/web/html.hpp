// HTML text for the dashboard: every value rendered into a page goes through Escape, which
// also repairs ill-formed UTF-8; times are shown relative, with the exact time beside.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace podcd::web {

// `text` safe in element content and in a double- or single-quoted attribute value.
std::string Escape(std::string_view text);
void AppendEscaped(std::string& out, std::string_view text);

// An attribute's value after its name: =value when every byte is one of A-Z a-z 0-9 / _ . : % ~ -
// (HTML5's unquoted form: two bytes less a link, for the front page's 500 rows), else ="escaped".
void AppendAttribute(std::string& out, std::string_view value);

// `text` percent-encoded for a URL's query value or path segment (unreserved bytes stay).
std::string UrlComponent(std::string_view text);

// "2026-12-02 11:20:31 UTC" for a Unix time in milliseconds; "" for 0.
std::string ExactTime(std::int64_t ms);
// "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago" (then from the future: "in 5 s").
std::string RelativeTime(std::int64_t ms, std::int64_t now_ms);
// The colour class of a state word ("ok", "warn", "bad", "info", "off"): in-sync, succeeded,
// healthy are ok; changed, pinned, queued warn; failed, unhealthy bad; running info; others off.
std::string_view Tone(std::string_view word);
// <b class=TONE>word</b> ("unknown" for ""): a state is always shown in colour and in words.
void AppendBadge(std::string& out, std::string_view word);
std::string Badge(std::string_view word);

// <time datetime="ISO">relative</time> (the script adds the exact time as its title); "never" for 0.
std::string TimeElement(std::int64_t ms, std::int64_t now_ms);

}  // namespace podcd::web
