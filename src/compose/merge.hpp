// The compose specification's merge of two YAML trees (an override file onto the compose
// file, a service onto the one it extends): mappings merge, sequences append (the unique ones,
// ports, volumes, secrets, configs..., by their key), scalars replace, with the exceptions
// compose names (command, entrypoint and healthcheck.test replace; environment and labels merge
// as mappings whichever form each side uses; depends_on, networks, build, logging, ulimits) and
// the `!reset` and `!override` tags. Pure: trees in, a tree out. Internal to the loader.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "compose/yaml_tree.hpp"

namespace podcd::compose {

struct MergeIssue {
  tree::Mark mark;   // in the overriding tree
  std::string path;  // "services.web.ports"
  std::string message;
};

class TreeMerger {
 public:
  // `budget`: nodes the merges of one stack may make or copy (hostile fan-outs of extends).
  explicit TreeMerger(std::size_t budget) : budget_(budget) {}

  // Where a merge happens: the path for messages ("services.web.ports") and its pattern in
  // the rule table ("services.*.ports": a name there may hold dots).
  struct At {
    std::string path;
    std::string pattern;
    At Child(const std::string& key) const;
  };

  // `over` onto `base` at `at` ({} for a whole file, {"services.x", "services.*"} for a
  // service). The result's own mark is base's (`keep_base_mark`) or over's.
  tree::NodePtr Merge(const tree::NodePtr& base, const tree::NodePtr& over, const At& at,
                      bool keep_base_mark = true);

  // The tree without the keys tagged `!reset` (a file used without a base, or a subtree copied
  // whole).
  static tree::NodePtr StripResets(const tree::NodePtr& node);

  std::vector<MergeIssue> issues;
  bool OverBudget() const { return over_budget_; }

 private:
  tree::NodePtr Value(const tree::NodePtr& base, const tree::NodePtr& over, const At& at);
  tree::NodePtr Mappings(const tree::NodePtr& base, const tree::NodePtr& over, const At& at);
  tree::NodePtr Append(const tree::NodePtr& base, const tree::NodePtr& over, const At& at);
  void Mismatch(const tree::NodePtr& base, const tree::NodePtr& over, const At& at);
  bool Spend(std::size_t n, const tree::Mark& mark, const At& at);

  std::size_t budget_;
  bool over_budget_ = false;
};

}  // namespace podcd::compose
