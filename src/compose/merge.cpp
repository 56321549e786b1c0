#include "compose/merge.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace podcd::compose {
namespace {

using tree::Node;
using tree::NodePtr;

// How the value at a path merges (the compose specification's merge section, and what the
// reference implementation, compose-go, does where the specification is silent).
enum class Rule : std::uint8_t {
  kDefault,    // mappings merge, sequences append, scalars replace
  kReplace,    // command, entrypoint, healthcheck.test, one ulimit
  kMapping,    // environment, labels...: "K=V" lists and mappings merge as mappings
  kDependsOn,  // a list of names is a mapping of {condition: service_started}
  kNameMap,    // a service's networks: a list of names is a mapping of nulls
  kBuild,      // a string is {context: string}
  kLogging,    // options merge only when both name the same driver (or one names none)
  kSequence,   // a single string is a list of one; unique by `Unique`
};

// What makes two items of a sequence the same item (a later one replaces it in place).
enum class Unique : std::uint8_t { kNone, kExact, kPort, kVolume, kDevice, kMount, kEnvFile, kSubnet };

struct RuleRow {
  std::string_view pattern;
  Rule rule;
  Unique unique = Unique::kNone;
  std::string_view prefix = {};  // kMount: where a target-less mount goes
};

constexpr RuleRow kRules[] = {
    {"services.*.command", Rule::kReplace},
    {"services.*.entrypoint", Rule::kReplace},
    {"services.*.healthcheck.test", Rule::kReplace},
    {"services.*.ulimits.*", Rule::kReplace},
    {"services.*.environment", Rule::kMapping},
    {"services.*.labels", Rule::kMapping},
    {"services.*.annotations", Rule::kMapping},
    {"services.*.sysctls", Rule::kMapping},
    {"services.*.build.args", Rule::kMapping},
    {"services.*.build.labels", Rule::kMapping},
    {"services.*.deploy.labels", Rule::kMapping},
    {"networks.*.labels", Rule::kMapping},
    {"networks.*.driver_opts", Rule::kMapping},
    {"volumes.*.labels", Rule::kMapping},
    {"volumes.*.driver_opts", Rule::kMapping},
    {"services.*.depends_on", Rule::kDependsOn},
    {"services.*.networks", Rule::kNameMap},
    {"services.*.build", Rule::kBuild},
    {"services.*.logging", Rule::kLogging},
    {"services.*.ports", Rule::kSequence, Unique::kPort},
    {"services.*.volumes", Rule::kSequence, Unique::kVolume},
    {"services.*.devices", Rule::kSequence, Unique::kDevice},
    {"services.*.secrets", Rule::kSequence, Unique::kMount, "/run/secrets"},
    {"services.*.configs", Rule::kSequence, Unique::kMount, ""},
    {"services.*.env_file", Rule::kSequence, Unique::kEnvFile},
    {"services.*.extra_hosts", Rule::kSequence, Unique::kExact},
    {"services.*.build.extra_hosts", Rule::kSequence, Unique::kExact},
    {"services.*.dns", Rule::kSequence, Unique::kExact},
    {"services.*.dns_opt", Rule::kSequence, Unique::kExact},
    {"services.*.dns_search", Rule::kSequence, Unique::kExact},
    {"services.*.tmpfs", Rule::kSequence, Unique::kExact},
    {"services.*.cap_add", Rule::kSequence, Unique::kExact},
    {"services.*.cap_drop", Rule::kSequence, Unique::kExact},
    {"services.*.profiles", Rule::kSequence, Unique::kExact},
    {"services.*.links", Rule::kSequence, Unique::kExact},
    {"services.*.expose", Rule::kSequence, Unique::kExact},
    {"services.*.networks.*.aliases", Rule::kSequence, Unique::kExact},
    {"networks.*.ipam.config", Rule::kSequence, Unique::kSubnet},
};

const RuleRow* FindRule(std::string_view pattern) {
  for (const auto& r : kRules) {
    if (r.pattern == pattern) return &r;
  }
  return nullptr;
}

// Where a name stands in a path: its pattern has "*" there.
bool NamesFollow(std::string_view pattern) {
  return pattern == "services" || pattern == "networks" || pattern == "volumes" || pattern == "configs" ||
         pattern == "secrets" || pattern == "services.*.networks" || pattern == "services.*.ulimits";
}

NodePtr Finish(std::shared_ptr<Node> n) {
  for (const auto& i : n->items) n->tagged_below = n->tagged_below || i->tagged_below;
  for (const auto& e : n->entries) n->tagged_below = n->tagged_below || e.value->tagged_below;
  return n;
}

std::shared_ptr<Node> NewNode(Node::Kind kind, const tree::Mark& mark) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->mark = mark;
  return n;
}

NodePtr Scalar(std::string text, const tree::Mark& mark) {
  auto n = NewNode(Node::Kind::kScalar, mark);
  n->scalar = std::move(text);
  return n;
}

const Node* Entry(const Node& map, std::string_view key) {
  for (const auto& e : map.entries) {
    if (e.key == key) return e.value.get();
  }
  return nullptr;
}

std::optional<std::string> EntryText(const Node& map, std::string_view key) {
  const Node* v = Entry(map, key);
  if (v == nullptr || !v->IsScalar()) return std::nullopt;
  return v->scalar;
}

// The short volume syntax's target: "src:target[:mode]" or a bare "target".
std::string ShortTarget(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto c = s.find(':', start);
    parts.push_back(s.substr(start, c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return parts.size() == 1 ? parts[0] : parts[1];
}

std::optional<std::string> KeyOf(const Node& item, Unique u, std::string_view prefix) {
  switch (u) {
    case Unique::kNone: return std::nullopt;
    case Unique::kExact:
      if (item.IsScalar()) return item.scalar;
      return std::nullopt;
    case Unique::kPort:
      if (item.IsScalar()) return item.scalar;
      if (item.IsMap()) {
        return EntryText(item, "host_ip").value_or("0.0.0.0") + ":" +
               EntryText(item, "published").value_or("") + ":" + EntryText(item, "target").value_or("") +
               "/" + EntryText(item, "protocol").value_or("tcp");
      }
      return std::nullopt;
    case Unique::kVolume:
    case Unique::kDevice:
      if (item.IsScalar()) return ShortTarget(item.scalar);
      if (item.IsMap()) return EntryText(item, "target");
      return std::nullopt;
    case Unique::kMount:
      if (item.IsScalar()) return std::string(prefix) + "/" + item.scalar;
      if (item.IsMap()) {
        if (auto t = EntryText(item, "target")) return t;
        return std::string(prefix) + "/" + EntryText(item, "source").value_or("");
      }
      return std::nullopt;
    case Unique::kEnvFile:
      if (item.IsScalar()) return item.scalar;
      if (item.IsMap()) return EntryText(item, "path");
      return std::nullopt;
    case Unique::kSubnet:
      if (item.IsMap()) return EntryText(item, "subnet");
      return std::nullopt;
  }
  return std::nullopt;
}

// A "K=V" list (or a single string) as a mapping; mappings as they are.
NodePtr AsMapping(const NodePtr& n, const std::string& path, std::vector<MergeIssue>& issues) {
  if (!n->IsSequence()) return n;
  auto out = NewNode(Node::Kind::kMap, n->mark);
  std::unordered_map<std::string, std::size_t> at;
  for (const auto& item : n->items) {
    if (!item->IsScalar()) {
      issues.push_back(
          {item->mark, path, "items must be KEY=VALUE strings, got " + std::string(item->Describe())});
      continue;
    }
    auto eq = item->scalar.find('=');
    std::string key = item->scalar.substr(0, eq);
    NodePtr value = eq == std::string::npos ? NewNode(Node::Kind::kNull, item->mark)
                                            : Scalar(item->scalar.substr(eq + 1), item->mark);
    if (auto it = at.find(key); it != at.end()) {
      out->entries[it->second].value = value;
    } else {
      at.emplace(key, out->entries.size());
      out->entries.push_back(tree::Entry{key, item->mark, value});
    }
  }
  return Finish(out);
}

// A list of names as a mapping: each name to `value` (null when none).
NodePtr NamesAsMapping(const NodePtr& n, bool depends_on) {
  if (!n->IsSequence()) return n;
  auto out = NewNode(Node::Kind::kMap, n->mark);
  for (const auto& item : n->items) {
    if (!item->IsScalar()) return n;  // the loader says what is wrong with it
    NodePtr value;
    if (depends_on) {
      auto m = NewNode(Node::Kind::kMap, item->mark);
      m->entries.push_back(tree::Entry{"condition", item->mark, Scalar("service_started", item->mark)});
      value = m;
    } else {
      value = NewNode(Node::Kind::kNull, item->mark);
    }
    out->entries.push_back(tree::Entry{item->scalar, item->mark, value});
  }
  return Finish(out);
}

// A single string, or a mapping (extra_hosts), as a list.
NodePtr AsSequence(const NodePtr& n) {
  if (n->IsSequence()) return n;
  auto out = NewNode(Node::Kind::kSequence, n->mark);
  if (n->IsScalar()) {
    out->items.push_back(n);
  } else if (n->IsMap()) {
    for (const auto& e : n->entries) {
      out->items.push_back(Scalar(e.key + "=" + (e.value->IsScalar() ? e.value->scalar : ""), e.key_mark));
    }
  } else {
    return n;
  }
  return Finish(out);
}

}  // namespace

TreeMerger::At TreeMerger::At::Child(const std::string& key) const {
  At c;
  c.path = path.empty() ? key : path + "." + key;
  const std::string part = NamesFollow(pattern) ? "*" : key;
  c.pattern = pattern.empty() ? part : pattern + "." + part;
  return c;
}

bool TreeMerger::Spend(std::size_t n, const tree::Mark& mark, const At& at) {
  if (over_budget_) return false;
  if (n <= budget_) {
    budget_ -= n;
    return true;
  }
  over_budget_ = true;
  issues.push_back({mark, at.path,
                    "the merged files (extends, include, override files) make more than " +
                        std::to_string(tree::kMaxNodes) + " YAML nodes, podcd's limit"});
  return false;
}

NodePtr TreeMerger::Merge(const NodePtr& base, const NodePtr& over, const At& at, bool keep_base_mark) {
  NodePtr out = Value(base, over, at);
  if (keep_base_mark || out == over) return out;
  auto copy = std::make_shared<Node>(*out);
  copy->mark = over->mark;
  return copy;
}

void TreeMerger::Mismatch(const NodePtr& base, const NodePtr& over, const At& at) {
  issues.push_back({over->mark, at.path,
                    "cannot merge " + std::string(over->Describe()) + " onto " +
                        std::string(base->Describe()) + " (the merge rules of the compose specification)"});
}

NodePtr TreeMerger::Value(const NodePtr& base, const NodePtr& over, const At& at) {
  if (over_budget_) return over;
  if (over->tag == tree::Tag::kOverride) return StripResets(over);
  if (over->tag == tree::Tag::kReset) return NewNode(Node::Kind::kNull, over->mark);
  const RuleRow* row = FindRule(at.pattern);
  const Rule rule = row == nullptr ? Rule::kDefault : row->rule;
  if (rule == Rule::kReplace) return over;
  if (over->IsNull()) return base;
  if (base->IsNull()) return over;
  switch (rule) {
    case Rule::kMapping:
      return Mappings(AsMapping(base, at.path, issues), AsMapping(over, at.path, issues), at);
    case Rule::kDependsOn: return Mappings(NamesAsMapping(base, true), NamesAsMapping(over, true), at);
    case Rule::kNameMap: return Mappings(NamesAsMapping(base, false), NamesAsMapping(over, false), at);
    case Rule::kBuild: {
      auto as_map = [](const NodePtr& n) -> NodePtr {
        if (!n->IsScalar()) return n;
        auto m = NewNode(Node::Kind::kMap, n->mark);
        m->entries.push_back(tree::Entry{"context", n->mark, n});
        return m;
      };
      return Mappings(as_map(base), as_map(over), at);
    }
    case Rule::kLogging:
      if (base->IsMap() && over->IsMap()) {
        auto a = EntryText(*base, "driver");
        auto b = EntryText(*over, "driver");
        if (a && b && *a != *b) return over;
      }
      break;
    case Rule::kSequence:
      if (base->IsMap() && over->IsMap()) return Mappings(base, over, at);
      return Append(AsSequence(base), AsSequence(over), at);
    case Rule::kDefault:
    case Rule::kReplace: break;
  }
  if (base->IsMap() && over->IsMap()) return Mappings(base, over, at);
  if (base->IsSequence() && over->IsSequence()) return Append(base, over, at);
  if (base->IsScalar() && over->IsScalar()) return over;
  Mismatch(base, over, at);
  return over;
}

NodePtr TreeMerger::Mappings(const NodePtr& base, const NodePtr& over, const At& at) {
  if (!base->IsMap() || !over->IsMap()) {
    if (base->kind != over->kind) Mismatch(base, over, at);
    return over;
  }
  if (!Spend(base->entries.size() + over->entries.size() + 1, over->mark, at)) return over;
  const RuleRow* row = FindRule(at.pattern);
  // In environment-like mappings a key without a value is a value of its own (taken from
  // the variables), not "keep the base's".
  const bool null_replaces = row != nullptr && row->rule == Rule::kMapping;
  auto out = NewNode(Node::Kind::kMap, base->mark);
  out->entries = base->entries;
  // Indexed: a merge of two mappings of n keys is n steps, not n^2.
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < out->entries.size(); ++i) index.emplace(out->entries[i].key, i);
  std::vector<bool> removed(out->entries.size(), false);
  std::vector<bool> added(over->entries.size(), false);
  for (std::size_t j = 0; j < over->entries.size(); ++j) {
    const tree::Entry& e = over->entries[j];
    auto it = index.find(e.key);
    if (e.value->tag == tree::Tag::kReset) {
      if (it != index.end()) removed[it->second] = true;
      continue;
    }
    if (it == index.end()) {
      added[j] = true;  // appended below, in order
      continue;
    }
    tree::Entry& mine = out->entries[it->second];
    if (null_replaces && e.value->IsNull()) {
      mine.value = e.value;
    } else {
      mine.value = Value(mine.value, e.value, at.Child(e.key));
    }
  }
  std::vector<tree::Entry> entries;
  entries.reserve(out->entries.size() + over->entries.size());
  for (std::size_t i = 0; i < out->entries.size(); ++i) {
    if (!removed[i]) entries.push_back(std::move(out->entries[i]));
  }
  for (std::size_t j = 0; j < over->entries.size(); ++j) {
    if (added[j]) entries.push_back(over->entries[j]);
  }
  out->entries = std::move(entries);
  return Finish(out);
}

NodePtr TreeMerger::Append(const NodePtr& base, const NodePtr& over, const At& at) {
  if (!base->IsSequence() || !over->IsSequence()) {
    Mismatch(base, over, at);
    return over;
  }
  if (!Spend(base->items.size() + over->items.size() + 1, over->mark, at)) return over;
  const RuleRow* row = FindRule(at.pattern);
  const Unique unique = row == nullptr ? Unique::kNone : row->unique;
  const std::string_view prefix = row == nullptr ? std::string_view{} : row->prefix;
  auto out = NewNode(Node::Kind::kSequence, base->mark);
  out->items = base->items;
  std::map<std::string, std::size_t> at_key;
  for (std::size_t i = 0; i < out->items.size(); ++i) {
    if (auto k = KeyOf(*out->items[i], unique, prefix)) at_key[*k] = i;
  }
  for (const auto& item : over->items) {
    auto k = KeyOf(*item, unique, prefix);
    if (k) {
      if (auto it = at_key.find(*k); it != at_key.end()) {
        out->items[it->second] = item;
        continue;
      }
      at_key[*k] = out->items.size();
    }
    out->items.push_back(item);
  }
  return Finish(out);
}

NodePtr TreeMerger::StripResets(const NodePtr& node) {
  if (!node->tagged_below) return node;
  auto out = std::make_shared<Node>(*node);
  out->tagged_below = false;
  out->items.clear();
  out->entries.clear();
  for (const auto& i : node->items) {
    if (i->tag != tree::Tag::kReset) out->items.push_back(StripResets(i));
  }
  for (const auto& e : node->entries) {
    if (e.value->tag != tree::Tag::kReset)
      out->entries.push_back(tree::Entry{e.key, e.key_mark, StripResets(e.value)});
  }
  return out;
}

}  // namespace podcd::compose
