#!/usr/bin/env bash
# The daemon and its workers (docs/benchmarks.md, "What the split bought"): one stack of N
# busybox services in a file:// repository, `podcd serve` on the testenv Podman. Prints the
# daemon's RSS before any work and after, the deployment worker's peak RSS (sampled every
# 20 ms), the cold deploy, and the median of RUNS no-change reconciles through the daemon
# (POST /deploy?wait) and, once the daemon is stopped, with `podcd deploy --all-changed`.
#   source <testenv dir>/env.sh; bench/daemon.sh [PODCD=build/src/podcd] [N=30] [RUNS=7]
set -euo pipefail
PODCD=$(realpath "${1:-build/src/podcd}"); N=${2:-30}; RUNS=${3:-7}
: "${PODCD_TEST_PODMAN_SOCKET:?source testenv env.sh}"
W=$(mktemp -d /tmp/dbench.XXXX)
git init -q --bare -b main $W/remote.git
git init -q -b main $W/dev
mkdir -p $W/dev/services/big
{
  echo "services:"
  for i in $(seq -f '%02g' 1 $N); do
    printf '  s%s:\n    image: localhost/bb:1\n    command: ["sleep", "3600"]\n    init: true\n    networks: [net]\n' $i
  done
  echo "networks:"; echo "  net: {}"
} > $W/dev/services/big/compose.yml
git -C $W/dev add -A; git -C $W/dev -c user.name=b -c user.email=b@b commit -qm one; git -C $W/dev push -q $W/remote.git main
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > $W/podcd.yml <<C
listen: 127.0.0.1:$PORT
webhook: {secret: bench-secret-0123456789}
repo: {url: "file://$W/remote.git", branch: main}
podman: {socket: $PODCD_TEST_PODMAN_SOCKET}
state_dir: $W/state
health: {settle: 0s}
log: {level: warn}
C
cleanup() { [ -n "${DPID:-}" ] && kill $DPID 2>/dev/null; wait 2>/dev/null; podman rm -f -t 0 $(podman ps -aq --filter label=io.podcd.stack=big) >/dev/null 2>&1 || true; podman network rm -f big_net >/dev/null 2>&1 || true; rm -rf $W; }
trap cleanup EXIT
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
$PODCD --config $W/podcd.yml serve 2>$W/serve.log & DPID=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$PORT/health && break; sleep 0.1; done
sleep 0.5
echo "daemon idle RSS before any work: $(awk '/^VmRSS/{print $2}' /proc/$DPID/status) kB"
peak=0
( while kill -0 $DPID 2>/dev/null; do
    for p in $(pgrep -P $DPID); do r=$(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null || echo 0); [ "${r:-0}" -gt "$peak" ] && peak=$r && echo $peak > $W/peak; done
    sleep 0.02; done ) &
SPID=$!
start=$(date +%s%N)
curl -s -o $W/cold.json -X POST "http://127.0.0.1:$PORT/deploy?wait=300" --data '{"all_changed":true}'
echo "cold deploy (start-up reconcile + this one) through the daemon: $(( ($(date +%s%N)-start)/1000000 )) ms; $(grep -o '"state":"[a-z]*"' $W/cold.json | head -1)"
echo "containers: $(podman ps -q --filter label=io.podcd.stack=big | wc -l)"
ts=()
for i in $(seq $RUNS); do
  t=$(curl -s -o /dev/null -w '%{time_total}' -X POST "http://127.0.0.1:$PORT/deploy?wait=60" --data '{"all_changed":true}')
  ts+=($t)
done
kill $SPID 2>/dev/null || true
echo "no-change deploy through the daemon (POST /deploy?wait), s: ${ts[*]}; median $(median "${ts[@]}")"
echo "worker peak RSS (sampled every 20 ms): $(cat $W/peak 2>/dev/null || echo ?) kB"
echo "daemon RSS after: $(awk '/^VmRSS/{print $2}' /proc/$DPID/status) kB, VmHWM $(awk '/^VmHWM/{print $2}' /proc/$DPID/status) kB"
ts=()
for i in $(seq $RUNS); do ts+=($(curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:$PORT/stacks)); done
echo "GET /stacks, s: ${ts[*]}; median $(median "${ts[@]}")"
# Concurrent requests share one __stacks worker (the first, then one for all that waited).
ts=()
for i in $(seq $RUNS); do
  s=$(date +%s%N); cpids=()
  for _ in $(seq 8); do curl -s -o /dev/null http://127.0.0.1:$PORT/stacks & cpids+=($!); done
  wait "${cpids[@]}"; ts+=($(( ($(date +%s%N)-s)/1000000 )))
done
echo "8 concurrent GET /stacks, all answered, ms: ${ts[*]}; median $(median "${ts[@]}")"
kill $DPID; wait $DPID 2>/dev/null || true; DPID=
ts=()
for i in $(seq $RUNS); do
  s=$(date +%s%N); $PODCD --config $W/podcd.yml deploy --all-changed >/dev/null 2>&1; ts+=($(( ($(date +%s%N)-s)/1000000 )))
done
echo "no-change podcd deploy --all-changed (CLI, in-process), ms: ${ts[*]}; median $(median "${ts[@]}")"
