// Which stack of a deployment runs when. Stacks are independent, so several are applied at
// once, except where one needs what another creates: a stack that uses a network as
// `external` waits for the stack that creates a network of that name (a proxy stack's
// network, shared by the apps behind it), so a fresh host comes up in one reconcile whatever
// the stacks are called.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "reconcile/apply.hpp"
#include "reconcile/select.hpp"

namespace podcd::reconcile {

// ScheduleStacks (select.hpp, pure) over the networks the jobs create and use as external.
StackSchedule ScheduleStacks(const std::vector<const StackJob*>& jobs);

// Calls run(position) for every position of `schedule`, at most `parallel` at once, each once
// the positions it waits for have returned. Returns when all have.
void RunScheduled(const StackSchedule& schedule, std::size_t parallel,
                  const std::function<void(std::size_t position)>& run);

}  // namespace podcd::reconcile
