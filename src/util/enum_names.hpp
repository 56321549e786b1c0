// Enum values and their words on the wire or on disk, both ways, from one table
// `{{E::kA, "a"}, ...}`: a word added to one direction cannot be missing from the other.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace podcd {

template <typename E, std::size_t N>
constexpr std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E value,
                                  std::string_view fallback) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return fallback;
}

template <typename E, std::size_t N>
constexpr std::optional<E> ValueOf(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [e, word] : table) {
    if (word == name) return e;
  }
  return std::nullopt;
}

}  // namespace podcd
