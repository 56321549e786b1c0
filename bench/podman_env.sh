# Sourced by the reconcile benchmarks: builds the podcd binary (RelWithDebInfo in $BUILD_DIR,
# default build) and reaches a Podman service: the one PODCD_TEST_PODMAN_SOCKET names, or a
# fresh scripts/testenv.sh one that stop_bench_env stops. Sets ROOT, PODCD, SOCK, IMAGE, WORK
# (a scratch directory named after $1) and an EXIT trap that removes WORK and the env; and
# the helpers now_ms, median (of numbers on stdin) and quiet (runs a tool, logs to WORK).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target podcd >/dev/null
PODCD=$(cd "$BUILD_DIR" && pwd -P)/src/podcd
if [ -z "${PODCD_TEST_PODMAN_SOCKET:-}" ]; then
  ENV_DIR=$(mktemp -d /tmp/podcd-bench-XXXXXX)
  "$ROOT/scripts/testenv.sh" start "$ENV_DIR" 2>/dev/null
  # shellcheck disable=SC1091
  . "$ENV_DIR/env.sh"
fi
SOCK=$PODCD_TEST_PODMAN_SOCKET
IMAGE=${PODCD_TEST_IMAGE:-localhost/bb:1}
WORK=$(mktemp -d "/tmp/podcd-bench-$1-XXXXXX")
trap 'rm -rf "$WORK"; [ -n "${ENV_DIR:-}" ] && "$ROOT/scripts/testenv.sh" stop "$ENV_DIR"' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
quiet() { "$@" >>"$WORK/tools.log" 2>&1 || { echo "failed: $* (see below)" >&2; tail -20 "$WORK/tools.log" >&2; exit 1; }; }
