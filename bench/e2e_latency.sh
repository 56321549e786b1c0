#!/usr/bin/env bash
# Webhook-to-converged latency of a one-stack change, podcd's idle and peak RSS, and the image
# size, on the e2e test's setup (scripts/e2e.sh: podcd's image, started with
# podman-compose.yml, against an isolated rootful Podman). Figures in docs/benchmarks.md.
#
#   bash bench/e2e_latency.sh                   # 10 pushes (E2E_BENCH_PUSHES=N for more)
#
# Each push changes web1's environment (its container is recreated), sends a signed webhook
# without ?wait, then polls the deployment record and web1's published port every 20 ms:
# "finished" is the record's finished_at_ms minus the moment before the webhook was sent,
# "served" is when web1 first answers with the new content. Needs root, like scripts/e2e.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_BENCH=1 E2E_SCENARIOS="${E2E_SCENARIOS:-0}" exec bash scripts/e2e.sh "$@"
