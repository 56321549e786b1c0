// Compose-spec variable interpolation and the .env file format. Pure: no shell, no
// environment access; variables come from a lookup the caller builds.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace podcd::compose {

// What interpolation may produce: one value (1 MiB, the size of a whole compose file), and all
// the values of one stack together (its .env files and compose file). Far above real values;
// far below what variables that expand each other (A=xxxxxxxxxx, B=$A$A$A..., C=$B$B$B...)
// would make of a few lines.
inline constexpr std::size_t kMaxValueBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxStackValueBytes = std::size_t{16} << 20;

// Returns the value of a variable, or nullopt when it is not set (set-but-empty is "").
using Lookup = std::function<std::optional<std::string>(std::string_view)>;

Lookup MapLookup(const std::map<std::string, std::string>& vars);
// First hit wins: `first`, then `second`.
Lookup ChainLookup(Lookup first, Lookup second);

struct InterpolateResult {
  std::string value;
  std::vector<std::string> unset;  // names that were referenced without a value or default
};

// Substitutes $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}, and
// $$ -> $. Defaults, errors and alternatives are interpolated themselves, only when used.
// A '$' not followed by a name, '{' or '$' stays literal ("$(date)", "cost: 5$").
// Errors (kInvalidArgument) carry the 1-based character offset of the '$' in the context
// ("offset 7") and name the variable. A result longer than `max_bytes` is an error, found
// before it is built.
Expected<InterpolateResult> Interpolate(std::string_view text, const Lookup& lookup,
                                        std::size_t max_bytes = kMaxValueBytes);

// One KEY=VALUE per line, in file order; a later duplicate overrides an earlier one.
using EnvEntries = std::vector<std::pair<std::string, std::string>>;

// Parses a .env / env_file text:
//   KEY=value           unquoted: trimmed, " #..." starts a comment, ${VAR} interpolated
//   export KEY=value    the export prefix is accepted and dropped
//   KEY="a\nb ${X}"     double quotes: \n \t \r \\ \" \$ escapes, interpolated, may span lines
//   KEY='literal'       single quotes: literal, may span lines
//   KEY                 no '=': takes the value from `lookup` if set, else is skipped
//   # comment, blank lines
// Variables defined earlier in the same file are visible to later values (then `lookup`).
// Each value is at most kMaxValueBytes; `budget`, when given, is what all values may still add
// up to, and is spent. Errors name `file:line`.
Expected<EnvEntries> ParseEnvFile(std::string_view text, std::string_view file, const Lookup& lookup,
                                  std::size_t* budget = nullptr);

std::map<std::string, std::string> ToMap(const EnvEntries& entries);

bool IsValidVariableName(std::string_view name);

}  // namespace podcd::compose
