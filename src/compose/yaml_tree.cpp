#include "compose/yaml_tree.hpp"

#include <yaml-cpp/yaml.h>

#include <unordered_map>
#include <unordered_set>

#include "util/yaml.hpp"

namespace podcd::compose::tree {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 1'000'000;

Mark ToMark(const YAML::Mark& m) {
  if (m.is_null()) return {};
  return Mark{m.line + 1, m.column + 1};
}

class Builder {
 public:
  explicit Builder(std::string_view file) : file_(file) {}

  NodePtr Build(const YAML::Node& node, int depth) {
    if (depth > kMaxDepth) {
      Err(ToMark(node.Mark()), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      return Null(node);
    }
    const void* id = &node.Tag();
    if (auto it = done_.find(id); it != done_.end()) return it->second;
    if (!busy_.insert(id).second) {
      Err(ToMark(node.Mark()), "recursive alias");
      return Null(node);
    }
    if (++count_ > kMaxNodes) {
      busy_.erase(id);
      Err(ToMark(node.Mark()), "document too large");
      return Null(node);
    }
    auto out = std::make_shared<Node>();
    out->mark = ToMark(node.Mark());
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        out->kind = Node::Kind::kScalar;
        out->scalar = node.Scalar();
        break;
      case YAML::NodeType::Sequence:
        out->kind = Node::Kind::kSequence;
        for (const auto& child : node) out->items.push_back(Build(child, depth + 1));
        break;
      case YAML::NodeType::Map: BuildMap(node, depth, *out); break;
      default: out->kind = Node::Kind::kNull; break;
    }
    busy_.erase(id);
    done_.emplace(id, out);
    return out;
  }

  std::vector<Error> errors;

 private:
  NodePtr Null(const YAML::Node& node) {
    auto n = std::make_shared<Node>();
    n->mark = ToMark(node.Mark());
    return n;
  }

  void Err(const Mark& m, std::string msg) {
    if (errors.size() < 100)
      errors.push_back(Error{ErrorCode::kInvalidArgument, std::move(msg), Where(file_, m)});
  }

  void BuildMap(const YAML::Node& node, int depth, Node& out) {
    out.kind = Node::Kind::kMap;
    std::unordered_set<std::string> keys;
    std::vector<NodePtr> merges;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node val = it->second;
      Mark km = ToMark(k.Mark());
      if (!k.IsScalar()) {
        Err(km, "mapping keys must be strings, got " + std::string(yaml::Describe(k)));
        continue;
      }
      const std::string& key = k.Scalar();
      if (key == "<<" && k.Tag() != "!") {
        NodePtr v = Build(val, depth + 1);
        if (v->IsMap()) {
          merges.push_back(v);
        } else if (v->IsSequence()) {
          for (const auto& item : v->items) {
            if (item->IsMap()) {
              merges.push_back(item);
            } else {
              Err(item->mark, "a merge key (<<) takes a mapping or a sequence of mappings, got " +
                                  std::string(item->Describe()));
            }
          }
        } else {
          Err(km, "a merge key (<<) takes a mapping or a sequence of mappings, got " +
                      std::string(v->Describe()));
        }
        continue;
      }
      if (!keys.insert(key).second) {
        Err(km, "duplicate key \"" + key + "\"");
        continue;
      }
      out.entries.push_back(Entry{key, km, Build(val, depth + 1)});
    }
    // Explicit keys win; among merged mappings the earlier one wins (YAML merge spec).
    for (const auto& m : merges) {
      for (const auto& e : m->entries) {
        if (keys.insert(e.key).second) out.entries.push_back(e);
      }
    }
  }

  std::string file_;
  std::unordered_map<const void*, NodePtr> done_;
  std::unordered_set<const void*> busy_;
  std::size_t count_ = 0;
};

}  // namespace

std::string_view Node::Describe() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kScalar: return "a scalar";
    case Kind::kSequence: return "a sequence";
    case Kind::kMap: return "a mapping";
  }
  return "unknown";
}

std::string Where(std::string_view file, const Mark& mark) {
  std::string out(file);
  if (mark.line == 0) return out;
  return out + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

std::expected<NodePtr, std::vector<Error>> Parse(std::string_view text, std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return std::unexpected(
        std::vector<Error>{Error{ErrorCode::kInvalidArgument, e.msg, yaml::Where(file, e.mark)}});
  }
  Builder b(file);
  NodePtr out = b.Build(root, 0);
  if (!b.errors.empty()) return std::unexpected(std::move(b.errors));
  return out;
}

}  // namespace podcd::compose::tree
