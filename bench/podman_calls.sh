#!/usr/bin/env bash
# Measures raw libpod call latencies through podcd's podman::Client (bench/podman_calls.cpp)
# against an isolated Podman from scripts/testenv.sh, or the one PODCD_TEST_PODMAN_SOCKET
# names. Prints a Markdown table of medians and p90s.
#   bench/podman_calls.sh [N_CONTAINERS=30] [REPS=50]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j2 --target podman_calls >/dev/null
BIN=$(cd "$BUILD_DIR" && pwd -P)/bench/podman_calls

if [ -z "${PODCD_TEST_PODMAN_SOCKET:-}" ]; then
  ENV_DIR=$(mktemp -d /tmp/podcd-bench-XXXXXX)
  trap '"$ROOT/scripts/testenv.sh" stop "$ENV_DIR"' EXIT
  "$ROOT/scripts/testenv.sh" start "$ENV_DIR" 2>/dev/null
  # shellcheck disable=SC1091
  . "$ENV_DIR/env.sh"
fi
"$BIN" "$PODCD_TEST_PODMAN_SOCKET" "${PODCD_TEST_IMAGE:-localhost/bb:1}" "${1:-30}" "${2:-50}"
