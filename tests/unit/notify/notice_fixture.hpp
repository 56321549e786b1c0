// A notice and targets shared by the notify format tests.
#pragma once

#include <rapidjson/document.h>

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "notify/message.hpp"

namespace podcd::notify::testing {

inline constexpr std::string_view kCanary = "CANARY-s3cr3t-7f1e";
inline constexpr std::string_view kSha = "0123456789abcdef0123456789abcdef01234567";

inline Notice FailedNotice() {
  Notice n;
  n.what = What::kFailed;
  n.deployment = "42";
  n.actor = "alice";
  n.trigger = "webhook";
  n.commit = std::string(kSha);
  n.previous_commit = "fedcba9876543210fedcba9876543210fedcba98";
  n.reason = "stack web failed";
  n.stacks = {{"web", "failed", "health check timed out"}, {"db", "unchanged", ""}};
  n.link = "https://podcd.example.net/deployments/42";
  n.at_ms = 1'790'000'000'123;
  return n;
}

inline config::Config::NotifyTarget Target(std::string type, std::string url, std::string secret = {}) {
  config::Config::NotifyTarget t;
  t.name = type + "-0";
  t.type = std::move(type);
  t.url = std::move(url);
  t.secret = std::move(secret);
  return t;
}

inline std::optional<std::string> Header(const Outgoing& out, std::string_view name) {
  for (const auto& [k, v] : out.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(k[i])) ==
                         std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return std::nullopt;
}

// Characters as UTF-16 counts them (Discord's limit): a code point past U+FFFF counts two.
inline std::size_t Utf16Units(std::string_view s) {
  std::size_t units = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xc0) != 0x80) ++units;  // a lead byte
    if (c >= 0xf0) ++units;           // a surrogate pair
  }
  return units;
}

inline rapidjson::Document Parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  return d;
}

}  // namespace podcd::notify::testing
