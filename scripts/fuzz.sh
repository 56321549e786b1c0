#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for FUZZ_SECONDS
# (default 60). Exits non-zero on any finding. Ten targets (tests/fuzz/*_fuzz.cpp): at the
# default that is ten minutes, which CI spends (.ci/run); FUZZ_SECONDS=1800 for a campaign.
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
status=0
for f in "$BUILD_DIR"/tests/fuzz/*_fuzz; do
  name=$(basename "$f")
  corpus="$BUILD_DIR/corpus/$name"
  mkdir -p "$corpus"
  seeds="tests/fuzz/corpus/${name%_fuzz}"
  echo "--- $name for ${SECONDS_EACH}s"
  mkdir -p "$BUILD_DIR/artifacts"
  if ! "$f" -max_total_time="$SECONDS_EACH" -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="$BUILD_DIR/artifacts/$name-" "$corpus" \
       $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 40; then
    status=1
  fi
done
exit $status
