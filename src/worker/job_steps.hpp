// What the `__stacks` and `__close-handover` workers do (worker/jobs.cpp runs them).
#pragma once

#include <atomic>
#include <vector>

#include "config/config.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/self_update.hpp"
#include "worker/protocol.hpp"

namespace podcd::worker {

// GET /stacks: each stack of the work tree as the live containers show it (no sync).
Expected<std::vector<StackObservation>> ObserveStacks(reconcile::Engine& engine);

// A self-update was pending when the daemon started (it is the new podcd, or the old one after
// a rollback): waits for the updater's result and writes it into the deployment through `ctx`
// (log, the self stack's outcome), backs the self stack off if it failed, and removes the
// updater. Success or "failed stacks: ..." closes the record. When `stopping` turns true
// before a result came, everything is left for the next start (ctx.HandOver()).
Expected<void> CloseHandOver(const reconcile::HandOver& handover, const config::Config& cfg,
                             reconcile::Runtime& runtime, reconcile::Engine& engine,
                             reconcile::RunContext& ctx, const std::atomic<bool>& stopping);

}  // namespace podcd::worker
