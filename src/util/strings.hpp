// Small text helpers: durations ("5m", "1h30m", "250ms"), trimming, file reading with limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd {

// Parses "0", "90s", "5m", "1h30m", "250ms", "2h" (Go-style units: ms, s, m, h).
// A bare non-zero number without a unit is rejected (ambiguous).
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
std::string FormatDuration(std::chrono::milliseconds d);

std::string_view Trim(std::string_view s);
// Spaces and tabs only, at both ends (HTTP's optional whitespace; a CR or LF stays).
std::string_view TrimBlanks(std::string_view s);
// ASCII letters lowered, every other byte as it is (header names, media types, tokens).
std::string AsciiLower(std::string_view s);
// The lines of `text`, without their '\n' (a final '\n' ends the last line; it starts none).
std::vector<std::string_view> SplitLines(std::string_view text);
// "a, b, c" from {"a", "b", "c"} and ", ".
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

// A stack name: ^[a-z0-9][a-z0-9_.-]{0,62}$ and no "..". The one rule for directories,
// configuration, API paths and the CLI.
bool IsValidStackName(std::string_view name);
bool ParseBool(std::string_view text, bool& out);  // true/false/yes/no/1/0/on/off
std::optional<std::int64_t> ParseInt(std::string_view text);

// Reads a whole file, refusing files larger than max_bytes.
Expected<std::string> ReadFile(const std::filesystem::path& path, std::uintmax_t max_bytes = 16u << 20);
// Writes atomically: temp file in the same directory, fsync, rename, fsync of the directory.
Expected<void> WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

}  // namespace podcd
