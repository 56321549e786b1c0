// JSON text that is always valid: the project's one string escaper and its UTF-8 repair.
#pragma once

#include <string>
#include <string_view>

namespace podcd::json {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
[[nodiscard]] bool IsValidUtf8(std::string_view s);

// `s` with each ill-formed sequence replaced by U+FFFD, one per maximal subpart (Unicode's
// recommended practice, as browsers and Python decode): "\xe2\x82" is one U+FFFD, "\xc0\xaf"
// two. Well-formed input comes back unchanged.
[[nodiscard]] std::string ValidUtf8(std::string_view s);

// Appends `s` as the inside of a JSON string (quotes not included): `"` `\` and control
// characters escaped (\n \r \t, others as \u00xx), `/` and non-ASCII kept, ill-formed UTF-8
// repaired as ValidUtf8 does. The API answers, log lines and the CLI's --json write strings so.
void AppendEscaped(std::string& out, std::string_view s);

// Appends `s` as a JSON string, quotes included.
void AppendQuoted(std::string& out, std::string_view s);
[[nodiscard]] std::string Quoted(std::string_view s);

}  // namespace podcd::json
