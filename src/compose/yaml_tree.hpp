// An immutable YAML tree with merge keys (<<) resolved and aliases shared, built from
// libyaml with cycle, depth and size guards. Internal to the compose loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace podcd::compose::tree {

// A document's size once every alias and merge key (<<) is expanded, as what reads the tree
// walks it: far above any real compose file (which is at most 1 MiB of text), far below what
// would exhaust memory or time. Keys count as bytes, not nodes (as yaml-cpp counted them).
inline constexpr std::size_t kMaxNodes = 1'000'000;
inline constexpr std::size_t kMaxBytes = std::size_t{16} << 20;

struct Mark {
  int line = 0;  // 1-based; 0: unknown
  int column = 0;
  int file = 0;  // which of a stack's files (compose/sources.hpp); 0: the compose file
};

// The compose specification's merge tags (`!reset`, `!override`); other tags are ignored.
enum class Tag : std::uint8_t { kNone, kReset, kOverride };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Entry {
  std::string key;
  Mark key_mark;
  NodePtr value;
};

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;
  Mark mark;
  Tag tag = Tag::kNone;
  bool tagged_below = false;   // a merge tag on this node or under it
  std::vector<NodePtr> items;  // kSequence
  std::vector<Entry> entries;  // kMap, explicit keys first, then merged ones
  // This node as what reads it sees it, each alias and merged mapping counted at each use
  // (keys count as bytes only): at most kMaxNodes and kMaxBytes.
  std::size_t expanded_nodes = 1;
  std::size_t expanded_bytes = 0;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }
  std::string_view Describe() const;
};

// Parses YAML text; duplicate keys, recursive aliases, non-string keys and bad merge
// values are errors with file:line:col.
// `file_index` goes into every Mark (the loader's table of a stack's files).
std::expected<NodePtr, std::vector<Error>> Parse(std::string_view text, std::string_view file,
                                                 int file_index = 0);

std::string Where(std::string_view file, const Mark& mark);

}  // namespace podcd::compose::tree
