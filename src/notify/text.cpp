#include "notify/text.hpp"

#include <vector>

#include "util/json_text.hpp"

namespace podcd::notify {
namespace {

constexpr std::string_view kEllipsis = "\xe2\x80\xa6";  // U+2026, one character

// How a title says what happened.
std::string_view Verb(What what) {
  switch (what) {
    case What::kStarted: return "started";
    case What::kSucceeded: return "succeeded";
    case What::kFailed: return "failed";
    case What::kRolledBack: return "rolled back";
    case What::kRefused: return "was refused";
    case What::kRecovered: return "recovered";
  }
  return "ended";
}

// The length in bytes of the UTF-8 sequence that starts with `lead` (valid input).
std::size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  return 2;
}

std::string StackPart(const StackNews& s) {
  std::string part = s.name + ": " + s.outcome;
  if (!s.reason.empty()) part += ": " + s.reason;
  return Truncate(part, kStackPartMax);
}

}  // namespace

bool FailedOutcome(std::string_view outcome) {
  return outcome == "failed" || outcome == "rolled-back" || outcome == "invalid" || outcome == "refused" ||
         outcome == "backoff";
}

std::string_view ShortCommit(std::string_view commit) { return commit.substr(0, 7); }

std::string Title(const Notice& notice) {
  std::string title = "podcd: deployment " + notice.deployment + " " + std::string(Verb(notice.what));
  return HeaderValue(title, 200);
}

std::string Summary(const Notice& notice, std::size_t max) {
  std::string text = "podcd: deployment " + notice.deployment + " " + std::string(Verb(notice.what));
  if (!notice.commit.empty()) text += " on " + std::string(ShortCommit(notice.commit));

  // The deployment's own reason, unless a stack already says it.
  bool said = notice.reason.empty();
  for (const auto& s : notice.stacks) said = said || s.reason == notice.reason;
  if (!said) text += ": " + Truncate(notice.reason, kStackPartMax);

  std::vector<const StackNews*> order;
  for (const auto& s : notice.stacks)
    if (FailedOutcome(s.outcome)) order.push_back(&s);
  for (const auto& s : notice.stacks)
    if (!FailedOutcome(s.outcome)) order.push_back(&s);
  if (!order.empty()) {
    text += " (";
    for (std::size_t i = 0; i < order.size() && i < kSummaryStacks; ++i) {
      if (i > 0) text += "; ";
      text += StackPart(*order[i]);
    }
    if (order.size() > kSummaryStacks)
      text += "; and " + std::to_string(order.size() - kSummaryStacks) + " more";
    text += ")";
  }
  return Truncate(text, max);
}

std::string Truncate(std::string_view text, std::size_t max) {
  std::string valid = json::ValidUtf8(text);
  std::size_t units = 0;
  std::size_t cut = std::string::npos;  // the byte offset where the kept part ends
  for (std::size_t i = 0; i < valid.size();) {
    const std::size_t n = SequenceLength(static_cast<unsigned char>(valid[i]));
    const std::size_t width = n == 4 ? 2 : 1;
    // Keep room for the ellipsis in case the text runs past `max`.
    if (cut == std::string::npos && units + width > (max == 0 ? 0 : max - 1)) cut = i;
    units += width;
    if (units > max) return max == 0 ? std::string() : valid.substr(0, cut) + std::string(kEllipsis);
    i += n;
  }
  return valid;
}

std::string HeaderValue(std::string_view text, std::size_t max) {
  std::string value = json::ValidUtf8(text);
  for (char& c : value) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) c = ' ';
  }
  if (value.size() <= max) return value;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xc0) == 0x80) --end;
  return value.substr(0, end);
}

}  // namespace podcd::notify
