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

namespace podcd::reconcile {

struct StackSchedule {
  std::vector<std::size_t> order;               // indices into the jobs, in start order
  std::vector<std::vector<std::size_t>> after;  // per position in `order`: earlier positions to wait for
};

// Dependencies are kept only where they form no cycle (stacks that use each other's networks
// run in their given order; the later one then finds the network).
StackSchedule ScheduleStacks(const std::vector<const StackJob*>& jobs);

// Calls run(position) for every position of `schedule`, at most `parallel` at once, each once
// the positions it waits for have returned. Returns when all have.
void RunScheduled(const StackSchedule& schedule, std::size_t parallel,
                  const std::function<void(std::size_t position)>& run);

}  // namespace podcd::reconcile
