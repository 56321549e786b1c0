// Compose-spec variable interpolation and the .env file format. Pure: no shell, no
// environment access; variables come from a lookup the caller builds.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace podcd::compose {

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
// ("offset 7") and name the variable.
Expected<InterpolateResult> Interpolate(std::string_view text, const Lookup& lookup);

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
// Errors name `file:line`.
Expected<EnvEntries> ParseEnvFile(std::string_view text, std::string_view file, const Lookup& lookup);

std::map<std::string, std::string> ToMap(const EnvEntries& entries);

bool IsValidVariableName(std::string_view name);

}  // namespace podcd::compose
