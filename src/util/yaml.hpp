// yaml-cpp helpers shared by the config and compose loaders: parse with file:line:col
// errors, and refuse duplicate mapping keys (yaml-cpp 0.7 accepts them silently).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::yaml {

// "file:line:col" (1-based) for a node; "file" alone when the node has no mark.
std::string Where(std::string_view file, const YAML::Node& node);
std::string Where(std::string_view file, const YAML::Mark& mark);

// Parses one YAML document. Syntax errors and duplicate keys come back with file:line:col.
Expected<YAML::Node> Parse(std::string_view text, std::string_view file);

// Every duplicate key in every mapping below `root` (depth-limited), as errors with positions.
std::vector<Error> FindDuplicateKeys(const YAML::Node& root, std::string_view file);

// A short human description of a node's type: "a mapping", "a sequence", "a string", "null".
std::string_view Describe(const YAML::Node& node);

}  // namespace podcd::yaml
