#include "http/persistence.hpp"

#include <algorithm>
#include <cctype>

namespace podcd::http {
namespace {

bool HasOption(std::string_view list, std::string_view option) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    auto first = item.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
    if (std::ranges::equal(item, option, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool KeepsAlive(HttpMinor version, std::optional<std::string_view> connection) {
  const std::string_view options = connection.value_or(std::string_view{});
  if (HasOption(options, "close")) return false;
  return version == HttpMinor::k1 || HasOption(options, "keep-alive");
}

}  // namespace podcd::http
