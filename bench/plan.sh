#!/usr/bin/env bash
# No-change plan of a generated repo (default 500 stacks x 3 services) vs the shell approach.
#   bench/plan.sh [STACKS] [RUNS]
#   BASE=REV bench/plan.sh [STACKS] [RUNS]   # also an older build (a worktree at REV), the two
#                                            # run in turns, ROUNDS times each (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
build() {  # build the benchmark of the tree in $1 into $1/$BUILD_DIR
  [ -f "$1/$BUILD_DIR/CMakeCache.txt" ] ||
    cmake -S "$1" -B "$1/$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPODCD_TESTS=OFF >/dev/null
  cmake --build "$1/$BUILD_DIR" -j"$(nproc)" --target plan_bench >/dev/null
}
build .
if [ -z "${BASE:-}" ]; then
  exec "$BUILD_DIR/bench/plan_bench" "${1:-500}" "${2:-10}"
fi
base_dir=$(mktemp -d /tmp/podcd-plan-base.XXXXXX)
trap 'git worktree remove --force "$base_dir" >/dev/null 2>&1 || true; rm -rf "$base_dir"' EXIT
git worktree add --detach "$base_dir" "$BASE" >/dev/null
build "$base_dir"
declare -A warm
for round in $(seq "${ROUNDS:-3}"); do
  for side in base new; do
    bin="$BUILD_DIR/bench/plan_bench"
    [ "$side" = base ] && bin="$base_dir/$BUILD_DIR/bench/plan_bench"
    ms=$("$bin" "${1:-500}" "${2:-10}" | sed -n 's/.*no-change plan.*median: \([0-9.]*\) ms/\1/p')
    echo "round $round $side ($([ "$side" = base ] && echo "$BASE" || git rev-parse --short HEAD)): $ms ms"
    warm[$side]+="$ms "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
b=$(echo "${warm[base]}" | median); n=$(echo "${warm[new]}" | median)
echo "median of the rounds' medians: base $b ms, new $n ms, new/base $(awk -v n="$n" -v b="$b" 'BEGIN {printf "%.2f", n / b}')"
