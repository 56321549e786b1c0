// docs/repository.md holds the table of compose keys as core::ComposeKeysMarkdown() makes it
// from the loader's key tables: a key added, ignored or mapped differently changes the page.
// PODCD_UPDATE_DOCS=1 rewrites the table in place (between its markers).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/compose_keys.hpp"

namespace {

constexpr std::string_view kBegin = "<!-- compose-keys: generated from src/core/compose_keys.cpp -->\n";
constexpr std::string_view kEnd = "<!-- compose-keys: end -->\n";

}  // namespace

TEST_CASE("docs/repository.md's table of compose keys is the one the key tables make") {
  const std::string path = std::string(PODCD_SOURCE_DIR) + "/docs/repository.md";
  std::string text;
  {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  const auto begin = text.find(kBegin);
  const auto end = text.find(kEnd);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string table = podcd::core::ComposeKeysMarkdown();
  const std::string page_table = text.substr(begin + kBegin.size(), end - begin - kBegin.size());
  if (page_table != table && std::getenv("PODCD_UPDATE_DOCS")) {
    text.replace(begin + kBegin.size(), end - begin - kBegin.size(), table);
    std::ofstream(path) << text;
    return;
  }
  INFO("docs/repository.md must hold (PODCD_UPDATE_DOCS=1 writes it):\n" << table);
  CHECK(page_table == table);
  // Every key the loader accepts is a row.
  for (const auto& k : podcd::core::ServiceKeys())
    CHECK(page_table.find("| `services." + std::string(k.key) + "` |") != std::string::npos);
}
