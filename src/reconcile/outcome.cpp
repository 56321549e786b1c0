#include "reconcile/outcome.hpp"

#include <utility>

namespace podcd::reconcile {
namespace {

template <typename E, std::size_t N>
std::string_view Name(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> Parse(const std::pair<E, std::string_view> (&table)[N], std::string_view text) {
  for (const auto& [e, name] : table) {
    if (name == text) return e;
  }
  return std::nullopt;
}

constexpr std::pair<ServiceOutcome, std::string_view> kServiceOutcomes[] = {
    {ServiceOutcome::kCreated, "created"},
    {ServiceOutcome::kRecreated, "recreated"},
    {ServiceOutcome::kUnchanged, "unchanged"},
    {ServiceOutcome::kRemoved, "removed"},
    {ServiceOutcome::kKept, "kept"},
    {ServiceOutcome::kFailed, "failed"},
    {ServiceOutcome::kRolledBack, "rolled-back"},
    {ServiceOutcome::kSkipped, "skipped"},
};

constexpr std::pair<StackOutcomeKind, std::string_view> kStackOutcomes[] = {
    {StackOutcomeKind::kUpdated, "updated"},        {StackOutcomeKind::kUnchanged, "unchanged"},
    {StackOutcomeKind::kRemoved, "removed"},        {StackOutcomeKind::kFailed, "failed"},
    {StackOutcomeKind::kRolledBack, "rolled-back"}, {StackOutcomeKind::kInvalid, "invalid"},
    {StackOutcomeKind::kRefused, "refused"},        {StackOutcomeKind::kBackoff, "backoff"},
    {StackOutcomeKind::kSkipped, "skipped"},        {StackOutcomeKind::kHandedOver, "handed-over"},
};

constexpr std::pair<DependencyCondition, std::string_view> kConditions[] = {
    {DependencyCondition::kStarted, "service_started"},
    {DependencyCondition::kHealthy, "service_healthy"},
    {DependencyCondition::kCompletedSuccessfully, "service_completed_successfully"},
};

}  // namespace

std::string_view ToString(ServiceOutcome outcome) { return Name(kServiceOutcomes, outcome); }
std::optional<ServiceOutcome> ParseServiceOutcome(std::string_view text) {
  return Parse(kServiceOutcomes, text);
}
bool Succeeded(ServiceOutcome outcome) {
  return outcome == ServiceOutcome::kCreated || outcome == ServiceOutcome::kRecreated;
}
bool FailsStack(ServiceOutcome outcome) {
  return outcome == ServiceOutcome::kFailed || outcome == ServiceOutcome::kRolledBack ||
         outcome == ServiceOutcome::kSkipped;
}

std::string_view ToString(StackOutcomeKind outcome) { return Name(kStackOutcomes, outcome); }
std::optional<StackOutcomeKind> ParseStackOutcome(std::string_view text) {
  return Parse(kStackOutcomes, text);
}

std::string_view ToString(DependencyCondition condition) { return Name(kConditions, condition); }
std::optional<DependencyCondition> ParseDependencyCondition(std::string_view text) {
  return Parse(kConditions, text);
}

}  // namespace podcd::reconcile
