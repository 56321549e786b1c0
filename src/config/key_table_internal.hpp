// The configuration's key table: every key, its default, its environment variables, its help
// text and how a value is checked and set (config.cpp's loader reads it, DescribeKeys lists it).
// Internal to podcd_config.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace podcd::config::detail {

enum class Kind { kString, kSecret, kInt, kBool, kDuration, kList, kStackRules };

// Sets a value from text; returns an error text ("expected ..., got ...") or nullopt.
using ScalarSetter = std::function<std::optional<std::string>(Config&, std::string_view)>;
using ListSetter = std::function<std::optional<std::string>(Config&, const std::vector<std::string>&)>;
using RulesSetter = std::function<std::optional<std::string>(
    Config&, const std::map<std::string, std::vector<std::string>>&)>;

struct KeySpec {
  std::string_view key;  // dotted path in the YAML file
  Kind kind;
  std::string_view default_value;
  std::vector<std::string_view> env;  // in priority order; secrets also accept NAME_FILE
  std::string_view help;
  ScalarSetter set;
  ListSetter set_list;
  RulesSetter set_rules;
};

// The defaults table: every key, its default, its environment variables, what it is for.
const std::vector<KeySpec>& Table();

// The table's entry for a dotted key path, nullptr when there is none.
const KeySpec* Find(std::string_view key);

// Whether `prefix` is a section: some key of the table starts with "prefix.".
bool IsSection(std::string_view prefix);

}  // namespace podcd::config::detail
