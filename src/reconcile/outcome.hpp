// The words of a run as enums: what happened to a service and to a stack, and what a
// depends_on condition waits for. Each has one ToString (the exact string that records, JSON
// answers, /metrics labels and log lines carry) and one Parse.
#pragma once

#include <optional>
#include <string_view>

namespace podcd::reconcile {

// What the applier did to one service.
enum class ServiceOutcome {
  kCreated,
  kRecreated,
  kUnchanged,
  kRemoved,
  kKept,
  kFailed,
  kRolledBack,
  kSkipped
};
std::string_view ToString(ServiceOutcome outcome);
std::optional<ServiceOutcome> ParseServiceOutcome(std::string_view text);
// Created or recreated: the service is up in its new form.
bool Succeeded(ServiceOutcome outcome);
// Failed, rolled back or skipped: the stack failed.
bool FailsStack(ServiceOutcome outcome);

// What a deployment did to one stack (the record's stack outcome).
enum class StackOutcomeKind {
  kUpdated,
  kUnchanged,
  kRemoved,
  kFailed,
  kRolledBack,  // a self-update the updater put back
  kInvalid,
  kRefused,
  kBackoff,
  kSkipped,
  kHandedOver,
  kSuspended,  // suspended by an operator (state/controls.hpp): left alone
};
std::string_view ToString(StackOutcomeKind outcome);
std::optional<StackOutcomeKind> ParseStackOutcome(std::string_view text);

// A compose depends_on condition: what the dependent waits for.
enum class DependencyCondition { kStarted, kHealthy, kCompletedSuccessfully };
std::string_view ToString(DependencyCondition condition);
std::optional<DependencyCondition> ParseDependencyCondition(std::string_view text);

}  // namespace podcd::reconcile
