// The compose tree is parsed with libyaml; yaml-cpp parsed it before. Both must read every
// compose file the same way (a different scalar would change fingerprints and redeploy), so
// each document here is read by both and the trees compared: kinds, values, key order after
// merges, and positions.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "compose/yaml_tree.hpp"

namespace fs = std::filesystem;
using podcd::compose::tree::Node;

namespace {

std::string At(int line, int column) { return "@" + std::to_string(line) + ":" + std::to_string(column); }

std::string Ours(const Node& n) {
  std::string at = At(n.mark.line, n.mark.column);
  switch (n.kind) {
    case Node::Kind::kNull: return "~";  // positions of empty values differ: see below
    case Node::Kind::kScalar: return "'" + n.scalar + "'" + at;
    case Node::Kind::kSequence: {
      std::string out = "[" + at;
      for (const auto& i : n.items) out += " " + Ours(*i);
      return out + "]";
    }
    case Node::Kind::kMap: {
      std::string out = "{" + at;
      for (const auto& e : n.entries)
        out += " " + e.key + At(e.key_mark.line, e.key_mark.column) + ": " + Ours(*e.value);
      return out + "}";
    }
  }
  return "?";
}

// yaml-cpp's reading, with merge keys resolved as the compose tree does.
std::string Theirs(const YAML::Node& n) {
  std::string at = n.Mark().is_null() ? At(0, 0) : At(n.Mark().line + 1, n.Mark().column + 1);
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'" + at;
    case YAML::NodeType::Sequence: {
      std::string out = "[" + at;
      for (const auto& i : n) out += " " + Theirs(i);
      return out + "]";
    }
    case YAML::NodeType::Map: {
      std::string out = "{" + at;
      std::unordered_set<std::string> keys;
      std::vector<YAML::Node> merges;
      for (const auto& kv : n) {
        const auto& k = kv.first;
        if (k.Scalar() == "<<" && k.Tag() != "!") {
          if (kv.second.IsMap()) merges.push_back(kv.second);
          for (const auto& m : kv.second)
            if (kv.second.IsSequence()) merges.push_back(m);
          continue;
        }
        keys.insert(k.Scalar());
        out += " " + k.Scalar() + At(k.Mark().line + 1, k.Mark().column + 1) + ": " + Theirs(kv.second);
      }
      for (const auto& m : merges) {
        for (const auto& kv : m) {
          if (keys.insert(kv.first.Scalar()).second)
            out += " " + kv.first.Scalar() + At(kv.first.Mark().line + 1, kv.first.Mark().column + 1) + ": " +
                   Theirs(kv.second);
        }
      }
      return out + "}";
    }
    default: return "~";
  }
}

void Same(const std::string& text, const std::string& what) {
  INFO(what << ":\n" << text);
  auto ours = podcd::compose::tree::Parse(text, "compose.yml");
  REQUIRE(ours.has_value());
  CHECK(Ours(**ours) == Theirs(YAML::Load(text)));
}

}  // namespace

TEST_CASE("libyaml reads compose documents exactly as yaml-cpp did") {
  const std::vector<std::string> docs = {
      "services:\n  web:\n    image: nginx:1.25\n    ports: [\"80:80\", '443:443']\n",
      "a: |\n  line one\n    indented\n  line three\nb: >\n  folded\n  text\n\n  para\nc: |-\n  keep\nd: "
      "|+\n  "
      "plus\n\ne: x\n",
      "plain: this is\n  a multi line\n  plain scalar\nq: \"esc \\t \\u00e9 \\\" \\\\ \\x41\"\ns: 'it''s'\n",
      "n1: ~\nn2: null\nn3: Null\nn4: NULL\nn5:\nn6: \"null\"\nn7: 'null'\nb: [true, no, 1e3, 0x1f, 010]\n",
      "x-base: &base\n  restart: always\n  init: true\nservices:\n  a:\n    <<: *base\n    restart: \"no\"\n"
      "  b: {<<: [*base, {user: x}], image: y}\n  c:\n    \"<<\": literal\n",
      "list: &l [1, 2, 3]\nagain: *l\nmap: &m {k: v}\nalso: [*m, *m]\n",
      "tagged: !reset []\nover: !override {a: 1}\nstr: !!str 123\n",
      "# comment only before\n---\nkey: value # trailing\n...\n",
      "crlf: one\r\nnext:\r\n  - a\r\n  - b\r\n",
      "unicode: \"h\xc3\xa9llo \xe2\x9c\x93\"\nemoji: \xf0\x9f\x90\xb3\n",
      "nested:\n- - a\n  - b\n- {x: [1, {y: z}]}\n- ? complex\n  : value\n",
      "empty_map: {}\nempty_seq: []\nempty_str: ''\nspaces: '  padded  '\n",
      "",
      "# nothing but a comment\n",
      "just a scalar\n",
      "cmd: [\"sh\", \"-c\", \"echo $$HOME && echo ${VAR:-x}\"]\nenv:\n  - A=1\n  - B=\n",
  };
  for (std::size_t i = 0; i < docs.size(); ++i) Same(docs[i], "document " + std::to_string(i));

  // Every compose file the repository carries: examples and the fuzzers' seeds.
  const fs::path root = PODCD_SOURCE_DIR;
  int files = 0;
  for (const auto& dir : {root / "examples", root / "tests" / "fuzz" / "corpus" / "compose"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".yml" && e.path().extension() != ".yaml") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      Same(text.str(), e.path().string());
      ++files;
    }
  }
  CHECK(files >= 5);
}

// Where the two differ, libyaml follows the YAML specification: an empty value (`key:`) is
// placed where it stands, after its key (yaml-cpp placed it at the next line); a folded
// block scalar that keeps its trailing newlines (`>+`) keeps all of them (yaml-cpp 0.7 kept one).
TEST_CASE("where yaml-cpp strayed from the specification, libyaml is right") {
  auto r = podcd::compose::tree::Parse("d: >+\n  plus\n\ne:\n", "c.yml");
  REQUIRE(r.has_value());
  CHECK((*r)->entries[0].value->scalar == "plus\n\n");
  CHECK((*r)->entries[1].value->IsNull());
  CHECK((*r)->entries[1].value->mark.line == 4);
}

TEST_CASE("YAML syntax errors name file, line and column") {
  for (const char* text :
       {"a: [1, 2\n", "a: b: c\n", "a:\n  - x\n y: z\n", "\"unterminated\n", "a: *nope\n"}) {
    INFO(text);
    auto r = podcd::compose::tree::Parse(text, "services/web/compose.yml");
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error().size() == 1);
    CHECK(r.error()[0].context.starts_with("services/web/compose.yml:"));
    CHECK_FALSE(r.error()[0].message.empty());
  }
}

TEST_CASE("only the first document is read, as before") {
  auto r = podcd::compose::tree::Parse("a: 1\n---\nb: [\n", "c.yml");
  REQUIRE(r.has_value());
  REQUIRE((*r)->entries.size() == 1);
  CHECK((*r)->entries[0].key == "a");
}

namespace {

// Levels of ten aliases each of the level before: about 10^levels nodes once expanded.
std::string Laughs(int levels) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < levels; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    text += "]\n";
  }
  return text;
}

}  // namespace

TEST_CASE("aliases are shared, not copied; recursion, depth and size are bounded") {
  // Five levels of ten aliases each stays ten nodes a level in memory.
  auto r = podcd::compose::tree::Parse(Laughs(5), "c.yml");
  REQUIRE(r.has_value());
  CHECK((*r)->entries[4].value->items[0] == (*r)->entries[3].value);
  // A billion laughs: whatever walks the tree walks it expanded, so it counts expanded. The
  // bound is the error below, which names the level where the count passed the limit: without
  // it the parse would not return (ctest's timeout) or would throw std::bad_alloc.
  auto laughs = podcd::compose::tree::Parse(Laughs(10), "c.yml");
  REQUIRE_FALSE(laughs.has_value());
  REQUIRE(laughs.error().size() == 1);
  CHECK(laughs.error()[0].message.starts_with("the document expands to more than 1000000 YAML nodes"));
  CHECK(laughs.error()[0].context == "c.yml:6:5");  // a5: 1,111,111 nodes

  auto deep = podcd::compose::tree::Parse(std::string(100, '[') + std::string(100, ']'), "c.yml");
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error()[0].message == "nesting deeper than 64 levels");

  auto recursive = podcd::compose::tree::Parse("a: &a [*a]\n", "c.yml");
  REQUIRE_FALSE(recursive.has_value());
  CHECK(recursive.error()[0].message == "recursive alias");
  CHECK(recursive.error()[0].context == "c.yml:1:8");
}

TEST_CASE("keys are not counted against the node limit, as with yaml-cpp") {
  // 600,000 entries: 600,001 nodes. Counting the keys too made it 1,200,001, over the limit.
  std::string text;
  text.reserve(600'000 * 12);
  for (int i = 0; i < 600'000; ++i) text += "k" + std::to_string(i) + ": v\n";
  auto r = podcd::compose::tree::Parse(text, "c.yml");
  REQUIRE(r.has_value());
  CHECK((*r)->entries.size() == 600'000);
  auto bad = podcd::compose::tree::Parse("? [a]\n: 1\n~: 2\n", "c.yml");
  REQUIRE_FALSE(bad.has_value());
  REQUIRE(bad.error().size() == 2);
  CHECK(bad.error()[0].message == "mapping keys must be strings, got a sequence");
  CHECK(bad.error()[1].message == "mapping keys must be strings, got null");
}

TEST_CASE("merge keys count what they copy: a fan-out is refused quickly, with where and why") {
  // Under 1 MiB of text: a mapping of 40,000 keys merged into 40,000 items would be 1.6 * 10^9
  // entries (it was std::bad_alloc, or tens of GB).
  std::string text = "x-a: &a {";
  for (int i = 0; i < 40'000; ++i) text += (i ? ", k" : "k") + std::to_string(i) + ": 1";
  text += "}\nx-b:\n";
  for (int i = 0; i < 40'000; ++i) text += "  - <<: *a\n";
  text += "services: {app: {image: x}}\n";
  REQUIRE(text.size() < (1u << 20));
  // Refused by the count, not by running out of memory: the message says which limit.
  auto r = podcd::compose::tree::Parse(text, "services/web/compose.yml");
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].message ==
        "the document expands to more than 1000000 YAML nodes, podcd's limit (each use of an alias or merge "
        "key (<<) counts all it stands for)");
  // 40,003 nodes made before the items, 40,001 for each: the 24th item's merge crosses the limit.
  CHECK(r.error()[0].context == "services/web/compose.yml:26:5");

  // One long key merged again and again: few nodes, many bytes copied.
  std::string keys = "x-a: &a\n  ? " + std::string(500'000, 'k') + "\n  : 1\nx-b:\n";
  for (int i = 0; i < 40; ++i) keys += "  - <<: *a\n";
  auto k = podcd::compose::tree::Parse(keys, "c.yml");
  REQUIRE_FALSE(k.has_value());
  REQUIRE(k.error().size() == 1);
  CHECK(k.error()[0].message.starts_with("the document expands to more than 16 MiB of keys and values"));
  CHECK(k.error()[0].context == "c.yml:37:5");  // 34 copies of the key: the 33rd merge

  // What real files do with merge keys stays well inside.
  std::string fine =
      "x-base: &base {restart: always, labels: [a=1, b=2], logging: {driver: journald}}\nservices:\n";
  for (int i = 0; i < 1000; ++i) fine += "  s" + std::to_string(i) + ": {<<: *base, image: x}\n";
  CHECK(podcd::compose::tree::Parse(fine, "c.yml").has_value());
}
