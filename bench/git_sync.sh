#!/usr/bin/env bash
# Git sync benchmark: 1,000 syncs from one long-lived process, through `podcd __sync` children
# (SyncInChild, what the daemon does) and in-process with libgit2 1.5.1, over file:// and a
# git daemon on loopback. Prints RSS before/after and median sync times; docs/benchmarks.md
# ("Git sync") records the figures.
#   bench/git_sync.sh               # 1000 syncs, a new commit before every 10th
#   SYNCS=200 bench/git_sync.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
SYNCS=${SYNCS:-1000}
CHANGE_EVERY=${CHANGE_EVERY:-10}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPODCD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target git_sync_bench podcd >/dev/null
BENCH="$BUILD_DIR/bench/git_sync_bench"

TMP=$(mktemp -d)
DAEMON_PID=
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# A remote shaped like an environment repo: 50 stacks with compose and env files.
git init -q --bare -b main "$TMP/remote.git"
git init -q -b main "$TMP/dev"
for i in $(seq 1 50); do
  mkdir -p "$TMP/dev/services/stack$i"
  printf 'services:\n  app:\n    image: docker.io/library/nginx:1.27\n    env_file: .env\n' >"$TMP/dev/services/stack$i/compose.yml"
  printf 'PORT=%d\n' "$((8000 + i))" >"$TMP/dev/services/stack$i/.env"
done
printf 'secrets/\n' >"$TMP/dev/.gitignore"
git -C "$TMP/dev" add -A
git -C "$TMP/dev" -c user.name=b -c user.email=b@b.invalid commit -qm init
git -C "$TMP/dev" remote add origin "$TMP/remote.git"
git -C "$TMP/dev" push -q origin main

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --export-all --reuseaddr --base-path="$TMP" --port="$PORT" --listen=127.0.0.1 "$TMP" 2>/dev/null &
DAEMON_PID=$!
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.05; done

run() {
  local mode=$1 url=$2 work
  work=$(mktemp -d -p "$TMP")
  "$BENCH" --mode "$mode" --url "$url" --dev "$TMP/dev" --work "$work" --syncs "$SYNCS" --change-every "$CHANGE_EVERY"
}
echo "# $(date -u +%FT%TZ) $(nproc) cores, syncs=$SYNCS, a new commit before every ${CHANGE_EVERY}th"
for url in "file://$TMP/remote.git" "git://127.0.0.1:$PORT/remote.git"; do
  run child "$url"
  run inprocess "$url"
done
