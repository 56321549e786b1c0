#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for FUZZ_SECONDS
# (default 60), FUZZ_JOBS at a time (default: one per core); FUZZ_TARGETS="webhook glob" runs
# only those. Exits non-zero on any finding. Ten
# targets (tests/fuzz/*_fuzz.cpp): at the default, five minutes on two cores, which CI spends
# (.ci/run); FUZZ_SECONDS=1800 for a campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
# UBSan only prints by default: a finding must stop the target and fail the run.
# RapidJSON 1.1.0 adds to its stack's null pointer before the first push (internal/stack.h,
# harmless, fixed upstream): suppressed, as the only such finding outside podcd.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  # libstdc++ 12's <expected> needs P0848 (clang >= 16) and checks __cpp_concepts >= 202002L,
  # which clang 16 still reports as 201907L although it implements what <expected> uses.
  CLANG_CXX=${CLANG_CXX:-$(command -v clang++-16 || echo clang++)}
  CLANG_CC=${CLANG_CC:-$(command -v clang-16 || echo clang)}
  CC=$CLANG_CC CXX=$CLANG_CXX cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DPODCD_FUZZ=ON \
    -DPODCD_TESTS=OFF -DPODCD_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS="-D__cpp_concepts=202002L -Wno-macro-redefined"
fi
# Only the fuzz targets and what they link: clang 14 has no std::expected, which the rest uses.
targets=()
for src in tests/fuzz/*_fuzz.cpp; do targets+=(--target "$(basename "${src%.cpp}")"); done
[ ${#targets[@]} -eq 0 ] && { echo "no fuzz targets"; exit 0; }
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
shopt -s nullglob
# FUZZ_JOBS targets run side by side (default: one per core), each for its full time: ten
# targets of 60 s take five minutes on two cores.
JOBS=${FUZZ_JOBS:-$(nproc)}
mkdir -p "$BUILD_DIR/artifacts" "$BUILD_DIR/logs"
rm -f "$BUILD_DIR"/logs/*.status
run_one() {  # run_one BINARY: one target, its output in logs/NAME.log, exit status kept
  local f=$1 name seeds
  name=$(basename "$f")
  mkdir -p "$BUILD_DIR/corpus/$name"
  seeds="tests/fuzz/corpus/${name%_fuzz}"
  local rc=0
  "$f" -max_total_time="$SECONDS_EACH" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/artifacts/$name-" "$BUILD_DIR/corpus/$name" \
    $( [ -d "$seeds" ] && echo "$seeds" ) >"$BUILD_DIR/logs/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$BUILD_DIR/logs/$name.status"
  return "$rc"
}
declare -A pid_of
names=()
for f in "$BUILD_DIR"/tests/fuzz/*_fuzz; do
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $(basename "${f%_fuzz}") "* ]]; then continue; fi
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
  name=$(basename "$f")
  echo "--- $name for ${SECONDS_EACH}s"
  run_one "$f" &
  pid_of[$name]=$!
  names+=("$name")
done
status=0
for name in "${names[@]}"; do
  wait "${pid_of[$name]}" || true
  # The target's own exit status, as it wrote it: `wait` on a job that `jobs` has already
  # reported done can answer 127 (bash forgets it), which once failed a clean campaign.
  if [ "$(cat "$BUILD_DIR/logs/$name.status" 2>/dev/null)" = 0 ]; then result=ok; else result=FAILED; status=1; fi
  echo "=== $name: $result"
  tail -n 40 "$BUILD_DIR/logs/$name.log"
done
exit $status
