// The outcome words: one string per value, parsed back; records and logs carry these bytes.
#include "reconcile/outcome.hpp"

#include <catch2/catch.hpp>

using namespace podcd::reconcile;

TEST_CASE("outcomes and conditions: the exact strings, both ways") {
  const std::pair<ServiceOutcome, const char*> services[] = {
      {ServiceOutcome::kCreated, "created"},
      {ServiceOutcome::kRecreated, "recreated"},
      {ServiceOutcome::kUnchanged, "unchanged"},
      {ServiceOutcome::kRemoved, "removed"},
      {ServiceOutcome::kKept, "kept"},
      {ServiceOutcome::kFailed, "failed"},
      {ServiceOutcome::kRolledBack, "rolled-back"},
      {ServiceOutcome::kSkipped, "skipped"},
  };
  for (const auto& [o, s] : services) {
    CHECK(ToString(o) == s);
    CHECK(ParseServiceOutcome(s) == o);
  }
  const std::pair<StackOutcomeKind, const char*> stacks[] = {
      {StackOutcomeKind::kUpdated, "updated"},        {StackOutcomeKind::kUnchanged, "unchanged"},
      {StackOutcomeKind::kRemoved, "removed"},        {StackOutcomeKind::kFailed, "failed"},
      {StackOutcomeKind::kRolledBack, "rolled-back"}, {StackOutcomeKind::kInvalid, "invalid"},
      {StackOutcomeKind::kRefused, "refused"},        {StackOutcomeKind::kBackoff, "backoff"},
      {StackOutcomeKind::kSkipped, "skipped"},        {StackOutcomeKind::kHandedOver, "handed-over"},
  };
  for (const auto& [o, s] : stacks) {
    CHECK(ToString(o) == s);
    CHECK(ParseStackOutcome(s) == o);
  }
  const std::pair<DependencyCondition, const char*> conditions[] = {
      {DependencyCondition::kStarted, "service_started"},
      {DependencyCondition::kHealthy, "service_healthy"},
      {DependencyCondition::kCompletedSuccessfully, "service_completed_successfully"},
  };
  for (const auto& [c, s] : conditions) {
    CHECK(ToString(c) == s);
    CHECK(ParseDependencyCondition(s) == c);
  }
  CHECK_FALSE(ParseServiceOutcome("Created"));
  CHECK_FALSE(ParseStackOutcome(""));
  CHECK_FALSE(ParseDependencyCondition("service_running"));
}

TEST_CASE("outcomes: which succeed, which fail the stack") {
  CHECK(Succeeded(ServiceOutcome::kCreated));
  CHECK(Succeeded(ServiceOutcome::kRecreated));
  CHECK_FALSE(Succeeded(ServiceOutcome::kUnchanged));
  CHECK(FailsStack(ServiceOutcome::kFailed));
  CHECK(FailsStack(ServiceOutcome::kRolledBack));
  CHECK(FailsStack(ServiceOutcome::kSkipped));
  CHECK_FALSE(FailsStack(ServiceOutcome::kKept));
  CHECK_FALSE(FailsStack(ServiceOutcome::kRemoved));
}
