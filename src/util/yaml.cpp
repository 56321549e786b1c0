#include "util/yaml.hpp"

#include <string>
#include <unordered_set>

namespace podcd::yaml {
namespace {

constexpr int kMaxDepth = 64;

// Aliases make the document a DAG: each node is walked once, identified by the address of
// its tag string (unique per node in yaml-cpp), so an alias bomb stays linear.
void Walk(const YAML::Node& node, std::string_view file, int depth, std::vector<Error>& out,
          std::unordered_set<const void*>& seen_nodes) {
  if (!seen_nodes.insert(&node.Tag()).second) return;
  if (depth > kMaxDepth) {
    out.push_back(Error{ErrorCode::kInvalidArgument, "nesting deeper than 64 levels", Where(file, node)});
    return;
  }
  if (node.IsMap()) {
    std::vector<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar()) {
        const std::string& k = it->first.Scalar();
        for (const auto& s : seen) {
          if (s == k) {
            out.push_back(
                Error{ErrorCode::kInvalidArgument, "duplicate key \"" + k + "\"", Where(file, it->first)});
            break;
          }
        }
        seen.push_back(k);
      }
      Walk(it->second, file, depth + 1, out, seen_nodes);
    }
  } else if (node.IsSequence()) {
    for (const auto& child : node) Walk(child, file, depth + 1, out, seen_nodes);
  }
}

}  // namespace

std::string Where(std::string_view file, const YAML::Mark& mark) {
  std::string out(file);
  if (mark.is_null()) return out;
  out += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  return out;
}

std::string Where(std::string_view file, const YAML::Node& node) {
  if (!node.IsDefined()) return std::string(file);
  return Where(file, node.Mark());
}

Expected<YAML::Node> Parse(std::string_view text, std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Fail(ErrorCode::kInvalidArgument, e.msg, Where(file, e.mark));
  }
  auto dups = FindDuplicateKeys(root, file);
  if (!dups.empty()) return std::unexpected(dups.front());
  return root;
}

std::vector<Error> FindDuplicateKeys(const YAML::Node& root, std::string_view file) {
  std::vector<Error> out;
  std::unordered_set<const void*> seen_nodes;
  Walk(root, file, 0, out, seen_nodes);
  return out;
}

std::string_view Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "unknown";
}

}  // namespace podcd::yaml
