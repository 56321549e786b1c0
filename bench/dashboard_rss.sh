#!/usr/bin/env bash
# podcd-serve's idle memory after browser sessions (docs/benchmarks.md, "Dashboard: idle RSS
# after browser sessions"; issue 14's goal: under 10 MB). `podcd serve` with a users file (one
# ADMIN, one USER) on a file:// repository of two busybox stacks and the testenv Podman; once
# its start-up deployment has run, its idle VmRSS (median of SAMPLES, one a second). Then ROUNDS
# rounds of bench/dashboard_rss.mjs: Debian's Chromium logs in SESSIONS times (every fourth as
# USER), walks /, a stack, /deployments (both following GET /events), a deployment, /deliveries,
# /audit, logs out; the first session of a round also tries a wrong password and presses
# "Deploy all changed". After each round the browser is closed, and after SETTLE seconds the
# idle VmRSS is sampled again (median of SAMPLES); printed with the peak sampled during the
# sessions (every 50 ms) and VmHWM. At the end the medians over the rounds, against the goal.
#   source <testenv dir>/env.sh; bench/dashboard_rss.sh [PODCD=build/src/podcd] [SESSIONS=20] [ROUNDS=3]
# Environment: SETTLE (seconds, default 5), SAMPLES (default 5), CHROMIUM (/usr/bin/chromium),
# KEEP=1 keeps the scratch directory, LOGINS=N (default 0) adds, after the rounds, N logins and
# logouts with curl (no browser, ADMIN's and USER's in turn; each an Argon2id verification and
# two audit entries), then the idle VmRSS once more: what many sessions over time leave behind.
set -euo pipefail
PODCD=$(realpath "${1:-build/src/podcd}"); SESSIONS=${2:-20}; ROUNDS=${3:-3}
SETTLE=${SETTLE:-5}; SAMPLES=${SAMPLES:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
: "${PODCD_TEST_PODMAN_SOCKET:?source testenv env.sh}"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no ${CHROMIUM:-/usr/bin/chromium} (scripts/setup.sh)" >&2; exit 1; }
[ -d "$HERE/../tests/browser/node_modules/playwright-core" ] || { echo "no playwright-core in tests/browser (scripts/setup.sh)" >&2; exit 1; }
IMAGE=${PODCD_TEST_IMAGE:-localhost/bb:1}
GOAL_KB=10000  # 10 MB
W=$(mktemp -d /tmp/rbench.XXXX)
git init -q --bare -b main $W/remote.git
git init -q -b main $W/dev
for s in blog shop; do
  mkdir -p $W/dev/services/$s
  printf 'services:\n  app:\n    image: %s\n    command: ["sleep", "3600"]\n    init: true\n' $IMAGE > $W/dev/services/$s/compose.yml
done
git -C $W/dev add -A; git -C $W/dev -c user.name=b -c user.email=b@b commit -qm one; git -C $W/dev push -q $W/remote.git main
ADMIN="alice:correct horse battery staple"; USER_="bob:tr0ub4dor&3"
{ echo "${ADMIN#*:}" | $PODCD passwd --user alice --role ADMIN
  echo "${USER_#*:}" | $PODCD passwd --user bob --role USER; } > $W/users
chmod 600 $W/users
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > $W/podcd.yml <<C
listen: 127.0.0.1:$PORT
webhook: {secret: bench-secret-0123456789}
repo: {url: "file://$W/remote.git", branch: main}
podman: {socket: $PODCD_TEST_PODMAN_SOCKET}
state_dir: $W/state
health: {settle: 0s}
log: {level: warn}
poll: {interval: 0}
auth: {users_file: $W/users}
C
cleanup() {
  [ -n "${NPID:-}" ] && kill $NPID 2>/dev/null
  [ -n "${DPID:-}" ] && kill $DPID 2>/dev/null
  wait 2>/dev/null
  for s in blog shop; do
    podman rm -f -t 0 $(podman ps -aq --filter label=io.podcd.stack=$s) >/dev/null 2>&1 || true
    podman network rm -f ${s}_default >/dev/null 2>&1 || true
  done
  [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf $W
}
trap cleanup EXIT
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { awk -v f="^$1:" '$0 ~ f {print $2}' /proc/$SERVE/status; }
# The median of SAMPLES VmRSS readings, one a second.
idle_rss() {
  local rs=()
  for _ in $(seq $SAMPLES); do rs+=($(field VmRSS)); sleep 1; done
  median "${rs[@]}"
}
parts() { echo "RssAnon $(field RssAnon) kB, RssFile $(field RssFile) kB"; }
mb() { awk -v k=$1 'BEGIN { printf "%.1f MB", k / 1000 }'; }
$PODCD --config $W/podcd.yml serve 2>$W/serve.log & DPID=$!
for _ in $(seq 200); do curl -sf -o /dev/null http://127.0.0.1:$PORT/health && break; sleep 0.1; done
SERVE=$(pgrep -P $DPID podcd-serve || echo $DPID)  # `podcd serve` may exec podcd-serve (same pid)
# The start-up deployment: both stacks running, then no worker left.
for _ in $(seq 300); do
  [ -n "$(podman ps -q --filter label=io.podcd.stack=blog)" ] && [ -n "$(podman ps -q --filter label=io.podcd.stack=shop)" ] &&
    [ -z "$(pgrep -P $SERVE)" ] && break
  sleep 0.2
done
sleep $SETTLE
BEFORE=$(idle_rss)
echo "podcd-serve (pid $SERVE) idle VmRSS after start: $BEFORE kB ($(mb $BEFORE); $(parts)), VmHWM $(field VmHWM) kB"
afters=(); peaks=(); hwms=()
for r in $(seq $ROUNDS); do
  node "$HERE/dashboard_rss.mjs" "http://127.0.0.1:$PORT/" $SERVE $SESSIONS "$ADMIN" "$USER_" > $W/round & NPID=$!
  wait $NPID || { echo "round $r failed; daemon log:" >&2; tail -20 $W/serve.log >&2; exit 1; }
  NPID=
  read -r _ n _ pages _ peak _ secs < $W/round
  sleep $SETTLE
  after=$(idle_rss); hwm=$(field VmHWM)
  afters+=($after); peaks+=($peak); hwms+=($hwm)
  echo "round $r: $n sessions, $pages pages in $secs s; VmRSS peak sampled during $peak kB;" \
    "idle VmRSS ${SETTLE} s after the browser closed $after kB ($(mb $after); $(parts)); VmHWM $hwm kB"
done
if [ "${LOGINS:-0}" -gt 0 ]; then
  t0=$(date +%s)
  for i in $(seq $LOGINS); do
    [ $((i % 4)) -eq 0 ] && who=$USER_ || who=$ADMIN
    rm -f $W/jar
    curl -sf -o /dev/null -c $W/jar -b $W/jar --data-urlencode "username=${who%%:*}" --data-urlencode "password=${who#*:}" \
      http://127.0.0.1:$PORT/login
    csrf=$(curl -sf -b $W/jar -H 'Accept: text/html' http://127.0.0.1:$PORT/ | grep -o 'name="\?csrf"\? value="\?[0-9a-f]*' | head -1 | grep -o '[0-9a-f]*$')
    curl -sf -o /dev/null -b $W/jar --data-urlencode "csrf=$csrf" http://127.0.0.1:$PORT/logout || { echo "logout $i failed" >&2; exit 1; }
  done
  sleep $SETTLE
  L=$(idle_rss)
  echo "after $LOGINS more logins and logouts with curl ($(( $(date +%s) - t0 )) s): idle VmRSS $L kB ($(mb $L); $(parts)); VmHWM $(field VmHWM) kB"
fi
A=$(median "${afters[@]}")
echo "median of $ROUNDS rounds: idle VmRSS after the sessions $A kB ($(mb $A)), peak sampled during" \
  "$(median "${peaks[@]}") kB, VmHWM $(median "${hwms[@]}") kB"
echo "goal (issue 14): idle RSS under 10 MB after browser sessions: $([ $A -lt $GOAL_KB ] && echo met || echo MISSED)" \
  "($A kB vs $GOAL_KB kB; before the sessions $BEFORE kB, growth $((A - BEFORE)) kB)"
# log.level warn: any line is worth a look.
[ -s $W/serve.log ] && { echo "podcd serve logged $(wc -l < $W/serve.log) lines, the last:"; tail -5 $W/serve.log; } || true
