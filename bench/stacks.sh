#!/usr/bin/env bash
# Many small stacks at once: the cold up of S one-service stacks (a fresh host, or a commit
# touching every stack) by podcd with parallel_stacks 4 (the default) and 1 (one stack after
# another), and by docker-compose 1.29.2 run once per stack directory, as a deploy script
# does. Same Podman service (scripts/testenv.sh, or the one PODCD_TEST_PODMAN_SOCKET names),
# same busybox services; median of RUNS. Prints a Markdown table.
#   bench/stacks.sh [STACKS=20] [RUNS=3]
set -euo pipefail
S=${1:-20}
RUNS=${2:-3}
# shellcheck source=bench/podman_env.sh
. "$(dirname "$0")/podman_env.sh" stacks

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
