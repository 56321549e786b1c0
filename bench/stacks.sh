#!/usr/bin/env bash
# Many small stacks at once: the cold up of S one-service stacks (a fresh host, or a commit
# touching every stack) by podcd with parallel_stacks 4 (the default) and 1 (one stack after
# another), and by docker-compose 1.29.2 run once per stack directory, as a deploy script
# does. Same Podman service (scripts/testenv.sh, or the one PODCD_TEST_PODMAN_SOCKET names),
# same busybox services; median of RUNS. Prints a Markdown table.
#   bench/stacks.sh [STACKS=20] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
BUILD_DIR=${BUILD_DIR:-build}
S=${1:-20}
RUNS=${2:-3}
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
WORK=$(mktemp -d /tmp/podcd-bench-stacks-XXXXXX)
trap 'rm -rf "$WORK"; [ -n "${ENV_DIR:-}" ] && "$ROOT/scripts/testenv.sh" stop "$ENV_DIR"' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
quiet() { "$@" >>"$WORK/tools.log" 2>&1 || { echo "failed: $*" >&2; tail -20 "$WORK/tools.log" >&2; exit 1; }; }
stack_names() { for i in $(seq -f '%02g' 1 "$S"); do echo "bs$i"; done; }
wipe() {
  local ids
  ids=$(podman ps -aq --filter label=io.podcd.bench=stacks)
  [ -z "$ids" ] || podman rm -f -t 0 $ids >/dev/null 2>&1 || true
  for s in $(stack_names); do podman network rm -f "${s}_default" >/dev/null 2>&1 || true; done
}

# The environment repository: services/bsNN/compose.yml, one service each.
git init -q --bare -b main "$WORK/remote.git"
git init -q -b main "$WORK/dev"
for s in $(stack_names); do
  mkdir -p "$WORK/dev/services/$s"
  cat >"$WORK/dev/services/$s/compose.yml" <<EOF
services:
  app:
    image: $IMAGE
    command: ["sleep", "3600"]
    init: true
    labels:
      io.podcd.bench: stacks
EOF
done
git -C "$WORK/dev" add -A
git -C "$WORK/dev" -c user.name=b -c user.email=b@b commit -qm stacks
git -C "$WORK/dev" push -q "$WORK/remote.git" main

bench_podcd() {  # bench_podcd PARALLEL: prints the median cold up in ms
  local p=$1 t times=()
  mkdir -p "$WORK/state-$p"
  cat >"$WORK/podcd-$p.yml" <<EOF
listen: 127.0.0.1:0
webhook:
  secret: a-bench-secret-of-some-length
repo:
  url: file://$WORK/remote.git
podman:
  socket: $SOCK
state_dir: $WORK/state-$p
parallel_stacks: $p
log:
  level: warn
EOF
  for _ in $(seq "$RUNS"); do
    wipe
    t=$(now_ms)
    quiet "$PODCD" deploy --config "$WORK/podcd-$p.yml"
    times+=($(($(now_ms) - t)))
  done
  printf '%s\n' "${times[@]}" | median
}

bench_dc() {
  local t times=() s
  for _ in $(seq "$RUNS"); do
    wipe
    t=$(now_ms)
    for s in $(stack_names); do
      quiet env DOCKER_HOST="unix://$SOCK" COMPOSE_INTERACTIVE_NO_CLI=1 \
        docker-compose -p "$s" -f "$WORK/dev/services/$s/compose.yml" up -d
    done
    times+=($(($(now_ms) - t)))
  done
  printf '%s\n' "${times[@]}" | median
}

p4=$(bench_podcd 4)
p1=$(bench_podcd 1)
dc=$(bench_dc)
wipe
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "### Cold up of $S one-service stacks (median of $RUNS, ms)"
echo
echo "| tool | cold up | vs docker-compose |"
echo "| --- | ---: | ---: |"
echo "| podcd, parallel_stacks 4 (default) | $p4 | $(ratio "$p4" "$dc") |"
echo "| podcd, parallel_stacks 1 | $p1 | $(ratio "$p1" "$dc") |"
echo "| docker-compose 1.29.2, once per stack | $dc | 1.00 |"
