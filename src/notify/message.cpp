#include "notify/message.hpp"

#include <array>

namespace podcd::notify {
namespace {

constexpr std::array<std::pair<What, std::string_view>, 6> kWords{{
    {What::kStarted, "started"},
    {What::kSucceeded, "succeeded"},
    {What::kFailed, "failed"},
    {What::kRolledBack, "rolled_back"},
    {What::kRefused, "refused"},
    {What::kRecovered, "recovered"},
}};

}  // namespace

std::string_view ToString(What what) {
  for (const auto& [w, word] : kWords)
    if (w == what) return word;
  return "unknown";
}

std::optional<What> ParseWhat(std::string_view word) {
  for (const auto& [w, text] : kWords)
    if (text == word) return w;
  return std::nullopt;
}

}  // namespace podcd::notify
