// What each service of a stack was deployed with, as people are shown it: the dashboard's plan
// diff puts these old values beside the new ones. Written by a run after a stack applied, read
// by the `__stacks` worker. Values are stored already masked and cut (ShownValue), so the file
// holds nothing a page could not show.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/fingerprint.hpp"
#include "core/model.hpp"
#include "util/error.hpp"

namespace podcd::reconcile {

// service -> field ("image", "environment.FOO", ...) -> shown value
using DeployedFields = std::map<std::string, std::map<std::string, std::string>>;

struct Deployed {
  DeployedFields services;
  // The commit whose tree under <state_dir>/pinned the stack's containers were made from (they
  // bind files in it); empty for the branch's work tree.
  std::string pinned_commit;
  bool operator==(const Deployed&) const = default;
};

// A canonical value (core::Canonicalize's JSON text) for people: a plain JSON string without its
// quotes; "***" for an environment variable whose name suggests a secret (PASSWORD, SECRET,
// TOKEN, KEY, ...); a map field's own entry as its count ("3 entries"); log::MaskSecrets; cut at
// 300 bytes on a UTF-8 boundary.
std::string ShownValue(std::string_view field, std::string value);

// Every service of `stack` with its fields shown.
DeployedFields ShownFields(const core::Stack& stack);

// <state_dir>/deployed/<stack>.json
std::filesystem::path DeployedFieldsPath(const std::filesystem::path& state_dir, std::string_view stack);
// Written whole or not at all.
Expected<void> WriteDeployed(const std::filesystem::path& state_dir, std::string_view stack,
                             const Deployed& deployed);
// Empty when there is no file (a stack deployed before podcd kept them) or it does not parse.
Deployed ReadDeployed(const std::filesystem::path& state_dir, std::string_view stack);
void RemoveDeployed(const std::filesystem::path& state_dir, std::string_view stack);
// The pinned commits that some stack's containers were made from, over every stack's record.
std::set<std::string> PinnedCommitsInUse(const std::filesystem::path& state_dir);

}  // namespace podcd::reconcile
