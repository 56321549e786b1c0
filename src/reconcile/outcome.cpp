#include "reconcile/outcome.hpp"

#include <utility>

#include "util/enum_names.hpp"

namespace podcd::reconcile {
namespace {

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
    {StackOutcomeKind::kSuspended, "suspended"},
};

constexpr std::pair<DependencyCondition, std::string_view> kConditions[] = {
    {DependencyCondition::kStarted, "service_started"},
    {DependencyCondition::kHealthy, "service_healthy"},
    {DependencyCondition::kCompletedSuccessfully, "service_completed_successfully"},
};

}  // namespace

std::string_view ToString(ServiceOutcome outcome) { return NameOf(kServiceOutcomes, outcome, "unknown"); }
std::optional<ServiceOutcome> ParseServiceOutcome(std::string_view text) {
  return ValueOf(kServiceOutcomes, text);
}
bool Succeeded(ServiceOutcome outcome) {
  return outcome == ServiceOutcome::kCreated || outcome == ServiceOutcome::kRecreated;
}
bool FailsStack(ServiceOutcome outcome) {
  return outcome == ServiceOutcome::kFailed || outcome == ServiceOutcome::kRolledBack ||
         outcome == ServiceOutcome::kSkipped;
}

std::string_view ToString(StackOutcomeKind outcome) { return NameOf(kStackOutcomes, outcome, "unknown"); }
std::optional<StackOutcomeKind> ParseStackOutcome(std::string_view text) {
  return ValueOf(kStackOutcomes, text);
}

std::string_view ToString(DependencyCondition condition) { return NameOf(kConditions, condition, "unknown"); }
std::optional<DependencyCondition> ParseDependencyCondition(std::string_view text) {
  return ValueOf(kConditions, text);
}

}  // namespace podcd::reconcile
