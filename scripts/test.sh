#!/usr/bin/env bash
# Builds if needed and runs the whole test suite, printing CTest's summary.
# Exits non-zero on any failure.
#   scripts/test.sh                 # build/ (RelWithDebInfo)
#   BUILD_DIR=build-asan PODCD_CMAKE_ARGS="-DPODCD_SANITIZE=ON" scripts/test.sh
#   CTEST_ARGS="-L unit" scripts/test.sh    # any ctest arguments
# The integration suites run against real services (Podman API, registry) that
# scripts/testenv.sh starts into $BUILD_DIR/testenv and always stops again (docs/testing.md).
# PODCD_NO_TESTENV=1 skips starting them: the integration suites then warn and skip.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BUILD_DIR=${BUILD_DIR:-build}
# Installs what is missing (a no-op when everything is there), so this works on a fresh machine.
bash scripts/setup.sh --no-build
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${PODCD_CMAKE_ARGS:-}
fi
built_at=$(date +%s)
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "test.sh: $BUILD_DIR built in $(($(date +%s) - built_at)) s"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)

if [ "${PODCD_NO_TESTENV:-0}" != 1 ]; then
  TESTENV_DIR="$BUILD_DIR/testenv"
  trap '"$ROOT/scripts/testenv.sh" stop "$TESTENV_DIR"' EXIT
  "$ROOT/scripts/testenv.sh" start "$TESTENV_DIR"
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env.sh"
fi

cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
