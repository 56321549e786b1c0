#!/usr/bin/env bash
# Builds if needed and runs the whole test suite, printing CTest's summary.
# Exits non-zero on any failure.
#   scripts/test.sh                 # build/ (RelWithDebInfo)
#   BUILD_DIR=build-asan PODCD_CMAKE_ARGS="-DPODCD_SANITIZE=ON" scripts/test.sh
# Integration suites start their own real services (Podman API, git daemon, sshd,
# registry) through scripts/testenv.sh when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${PODCD_CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
