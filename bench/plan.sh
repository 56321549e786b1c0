#!/usr/bin/env bash
# No-change plan of a generated repo (default 500 stacks x 3 services) vs the shell approach.
#   bench/plan.sh [STACKS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPODCD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target plan_bench >/dev/null
"$BUILD_DIR/bench/plan_bench" "${1:-500}" "${2:-10}"
