#include "compose/yaml_tree.hpp"

#include <yaml.h>

#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace podcd::compose::tree {
namespace {

// libyaml (C) instead of yaml-cpp: parsing was two fifths of a 500-stack plan with yaml-cpp,
// whose scanner matches every character against regular expressions; libyaml's event parser
// does the same job several times faster, and builds no intermediate node graph.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxErrors = 100;

Mark ToMark(const yaml_mark_t& m, int file) {
  return Mark{static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1, file};
}

Tag TagOf(const yaml_char_t* tag) {
  if (tag == nullptr) return Tag::kNone;
  std::string_view t(reinterpret_cast<const char*>(tag));
  if (t == "!reset") return Tag::kReset;
  if (t == "!override") return Tag::kOverride;
  return Tag::kNone;
}

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const noexcept {
    yaml_parser_delete(p);
    delete p;  // NOLINT(cppcoreguidelines-owning-memory): the C struct libyaml fills in
  }
};
using ParserPtr = std::unique_ptr<yaml_parser_t, ParserDeleter>;

// One parsed event, freed when it goes out of scope.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (filled_) yaml_event_delete(&event_);
  }
  yaml_event_t* Reset() {
    if (filled_) yaml_event_delete(&event_);
    filled_ = false;
    return &event_;
  }
  void Filled() { filled_ = true; }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

// The YAML core schema's null spellings; only an untagged plain scalar can be null (a quoted
// "null" is the string), as yaml-cpp decided it.
bool IsNullScalar(const yaml_event_t& e) {
  if (e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || e.data.scalar.tag != nullptr) return false;
  std::string_view v(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

std::string_view Anchor(const yaml_char_t* a) {
  return a == nullptr ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(a));
}

class Builder {
 public:
  Builder(std::string_view text, std::string_view file, int file_index)
      : file_(file), file_index_(file_index), parser_(new yaml_parser_t{}) {
    yaml_parser_initialize(parser_.get());
    yaml_parser_set_input_string(parser_.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }

  // The first document of the stream (yaml-cpp's Load read no further); an empty stream is null.
  NodePtr Document() {
    Event e;
    while (Next(e)) {
      switch (e->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT: continue;
        case YAML_STREAM_END_EVENT: return std::make_shared<Node>();
        default: return Value(e, 0);
      }
    }
    return nullptr;
  }

  std::vector<Error> errors;

 private:
  bool Next(Event& e) {
    if (yaml_parser_parse(parser_.get(), e.Reset()) == 0) {
      SyntaxError();
      return false;
    }
    e.Filled();
    return true;
  }

  void SyntaxError() {
    const yaml_parser_t& p = *parser_;
    std::string msg = p.problem != nullptr ? p.problem : "invalid YAML";
    if (p.context != nullptr) msg = std::string(p.context) + ": " + msg;
    errors.clear();  // the syntax error is the one to fix first
    errors.push_back(Error{ErrorCode::kInvalidArgument, std::move(msg),
                           Where(file_, ToMark(p.problem_mark, file_index_))});
    failed_ = true;
  }

  void Err(const Mark& m, std::string msg) {
    if (errors.size() < kMaxErrors)
      errors.push_back(Error{ErrorCode::kInvalidArgument, std::move(msg), Where(file_, m)});
  }

  // The node that starts with `e`; consumes its events up to its end.
  NodePtr Value(const Event& e, int depth) {
    const Mark mark = ToMark(e->start_mark, file_index_);
    if (e->type == YAML_ALIAS_EVENT) return Alias(Anchor(e->data.alias.anchor), mark);
    auto out = std::make_shared<Node>();
    out->mark = mark;
    const std::size_t scalar_bytes = e->type == YAML_SCALAR_EVENT ? e->data.scalar.length : 0;
    if (!Work(mark, 1, scalar_bytes)) return out;
    if (depth > kMaxDepth) {
      Err(mark, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      Skip(e);
      return out;
    }
    std::string anchor;
    switch (e->type) {
      case YAML_SCALAR_EVENT:
        anchor = Anchor(e->data.scalar.anchor);
        out->tag = TagOf(e->data.scalar.tag);
        if (!IsNullScalar(*e)) {
          out->kind = Node::Kind::kScalar;
          out->scalar.assign(reinterpret_cast<const char*>(e->data.scalar.value), e->data.scalar.length);
          out->expanded_bytes = scalar_bytes;
        }
        break;
      case YAML_SEQUENCE_START_EVENT:
        anchor = Anchor(e->data.sequence_start.anchor);
        out->tag = TagOf(e->data.sequence_start.tag);
        Begin(anchor);
        Sequence(depth, *out);
        break;
      case YAML_MAPPING_START_EVENT:
        anchor = Anchor(e->data.mapping_start.anchor);
        out->tag = TagOf(e->data.mapping_start.tag);
        Begin(anchor);
        Mapping(depth, *out);
        break;
      default: Err(mark, "unexpected YAML event"); break;
    }
    out->tagged_below = out->tagged_below || out->tag != Tag::kNone;
    if (!failed_ && (out->expanded_nodes > kMaxNodes || out->expanded_bytes > kMaxBytes)) {
      TooLarge(mark, out->expanded_nodes > kMaxNodes);
    }
    if (!anchor.empty()) {
      busy_.erase(anchor);
      anchors_[anchor] = out;  // a later anchor of the same name hides the earlier one
    }
    return out;
  }

  // Counts what building the tree does: nodes made, and the entries (with their keys' bytes)
  // that merge keys copy, so that a map of 40,000 keys merged into 40,000 items stops after a
  // few. What an alias stands for is not copied; Node::expanded_nodes counts it.
  bool Work(const Mark& mark, std::size_t nodes, std::size_t bytes) {
    work_nodes_ += nodes;
    work_bytes_ += bytes;
    if (work_nodes_ <= kMaxNodes && work_bytes_ <= kMaxBytes) return true;
    TooLarge(mark, work_nodes_ > kMaxNodes);
    return false;
  }

  // One error, where the limit was crossed, and parsing stops there.
  void TooLarge(const Mark& mark, bool nodes) {
    const std::string what = nodes ? std::to_string(kMaxNodes) + " YAML nodes"
                                   : std::to_string(kMaxBytes >> 20) + " MiB of keys and values";
    if (!failed_) {
      Err(mark, "the document expands to more than " + what +
                    ", podcd's limit (each use of an alias or merge key (<<) counts all it stands for)");
    }
    failed_ = true;
  }

  void Begin(const std::string& anchor) {
    if (!anchor.empty()) busy_.insert(anchor);
  }

  NodePtr Alias(std::string_view name, const Mark& mark) {
    std::string key(name);
    if (busy_.contains(key)) {
      Err(mark, "recursive alias");
    } else if (auto it = anchors_.find(key); it != anchors_.end()) {
      return it->second;  // shared, never copied; its expanded size counts in its parent
    } else {
      Err(mark, "unknown alias *" + key);
    }
    auto n = std::make_shared<Node>();
    n->mark = mark;
    return n;
  }

  // Consumes the rest of a collection that is not built (too deep, too large), without recursion.
  void Skip(const Event& start) {
    if (start->type != YAML_SEQUENCE_START_EVENT && start->type != YAML_MAPPING_START_EVENT) return;
    int open = 1;
    Event e;
    while (open > 0 && Next(e)) {
      if (e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT) ++open;
      if (e->type == YAML_SEQUENCE_END_EVENT || e->type == YAML_MAPPING_END_EVENT) --open;
    }
  }

  void Sequence(int depth, Node& out) {
    out.kind = Node::Kind::kSequence;
    Event e;
    while (Next(e) && e->type != YAML_SEQUENCE_END_EVENT) {
      out.items.push_back(Value(e, depth + 1));
      if (failed_) return;
    }
    // Each item is within the limits and there are fewer than kMaxNodes: no overflow.
    for (const auto& i : out.items) {
      out.tagged_below = out.tagged_below || i->tagged_below;
      out.expanded_nodes += i->expanded_nodes;
      out.expanded_bytes += i->expanded_bytes;
    }
  }

  void Mapping(int depth, Node& out) {
    out.kind = Node::Kind::kMap;
    std::unordered_set<std::string> keys;
    std::vector<NodePtr> merges;
    Event k;
    while (Next(k) && k->type != YAML_MAPPING_END_EVENT) {
      const Mark km = ToMark(k->start_mark, file_index_);
      // A plain `<<` is a merge key; a quoted one is an ordinary key.
      const bool merge = k->type == YAML_SCALAR_EVENT && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                         std::string_view(reinterpret_cast<const char*>(k->data.scalar.value),
                                          k->data.scalar.length) == "<<";
      std::string_view what;
      std::optional<std::string> key = KeyText(k, depth, what);
      if (failed_) return;
      Event v;
      if (!Next(v)) return;
      NodePtr value = Value(v, depth + 1);
      if (failed_) return;
      if (!key) {
        Err(km, "mapping keys must be strings, got " + std::string(what));
      } else if (merge) {
        Merge(km, value, merges);
        if (failed_) return;
      } else if (!keys.insert(*key).second) {
        Err(km, "duplicate key \"" + *key + "\"");
      } else {
        out.entries.push_back(Entry{std::move(*key), km, std::move(value)});
      }
    }
    // Explicit keys win; among merged mappings the earlier one wins (YAML merge spec).
    for (const auto& m : merges) {
      for (const auto& e : m->entries) {
        if (keys.insert(e.key).second) out.entries.push_back(e);
      }
    }
    for (const auto& e : out.entries) {
      out.tagged_below = out.tagged_below || e.value->tagged_below;
      out.expanded_nodes += e.value->expanded_nodes;
      out.expanded_bytes += e.key.size() + e.value->expanded_bytes;
    }
  }

  // A key's text. An unanchored scalar, nearly every key, is read straight from its event: no
  // node is made for it, and only its bytes are counted (yaml-cpp's keys were not nodes either).
  // Aliases, anchored keys and collections go through Value. nullopt: the key is not a
  // string, and `what` says what it is.
  std::optional<std::string> KeyText(const Event& k, int depth, std::string_view& what) {
    if (k->type == YAML_SCALAR_EVENT && k->data.scalar.anchor == nullptr) {
      if (IsNullScalar(*k)) {
        what = "null";
        return std::nullopt;
      }
      if (!Work(ToMark(k->start_mark, file_index_), 0, k->data.scalar.length)) return std::nullopt;
      return std::string(reinterpret_cast<const char*>(k->data.scalar.value), k->data.scalar.length);
    }
    NodePtr key = Value(k, depth + 1);
    if (key->IsScalar()) return key->scalar;
    what = key->Describe();
    return std::nullopt;
  }

  void Merge(const Mark& km, const NodePtr& v, std::vector<NodePtr>& merges) {
    auto bad = [this](const Mark& m, const Node& n) {
      Err(m, "a merge key (<<) takes a mapping or a sequence of mappings, got " + std::string(n.Describe()));
    };
    const std::size_t first = merges.size();
    if (v->IsMap()) {
      merges.push_back(v);
    } else if (v->IsSequence()) {
      for (const auto& item : v->items) {
        if (item->IsMap()) {
          merges.push_back(item);
        } else {
          bad(item->mark, *item);
        }
      }
    } else {
      bad(km, *v);
    }
    // The entries Mapping will look at and copy, before it does.
    std::size_t entries = 0;
    std::size_t bytes = 0;
    for (std::size_t i = first; i < merges.size(); ++i) {
      entries += merges[i]->entries.size();
      for (const auto& e : merges[i]->entries) bytes += e.key.size();
    }
    Work(km, entries, bytes);
  }

  std::string file_;
  int file_index_ = 0;
  ParserPtr parser_;
  std::unordered_map<std::string, NodePtr> anchors_;
  std::unordered_set<std::string> busy_;
  std::size_t work_nodes_ = 0;  // see Work
  std::size_t work_bytes_ = 0;
  bool failed_ = false;
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

std::expected<NodePtr, std::vector<Error>> Parse(std::string_view text, std::string_view file,
                                                 int file_index) {
  Builder b(text, file, file_index);
  NodePtr out = b.Document();
  if (!b.errors.empty() || out == nullptr) return std::unexpected(std::move(b.errors));
  return out;
}

}  // namespace podcd::compose::tree
