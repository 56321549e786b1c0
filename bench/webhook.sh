#!/usr/bin/env bash
# Webhook server benchmark: podcd vs adnanh/webhook 2.8.0, same machine, same run, loopback only.
# wrk -t2 -c50 -d5s --latency, plain HTTP/1.1 (no Connection header: wrk sends none, and
# HTTP/1.1 connections persist by default), with Lua scripts that POST
#   1. a wrong X-Hub-Signature-256 (podcd with its default limiter: 10 failures/min/address),
#   2. a wrong X-Hub-Signature-256 with podcd's limiter raised to 1,000,000/min (full HMAC + 401 path),
#   3. a correctly signed request with an already seen X-GitHub-Delivery (200 duplicate; podcd only:
#      webhook has no duplicate detection),
# and the wrong signature against webhook. ROUNDS rounds (default 5), each running the four
# back to back; prints the median req/s and p99 of each, RSS (idle, loaded, peak) and ratios.
#   BUILD_DIR=build bench/webhook.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PODCD=${PODCD:-$BUILD_DIR/src/podcd}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-5}
SECRET="bench-secret-0123456789abcdef"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
command -v webhook >/dev/null || { echo "webhook is not installed (apt-get install webhook)"; exit 1; }
[ -x "$PODCD" ] || { echo "no podcd binary at $PODCD (build first)"; exit 1; }
# PIN=1 (two cores or more): the servers on core 0, wrk on core 1, both peers alike. Unpinned
# (the default) on 2 cores, wrk's threads preempt the server's and p99 is mostly the
# scheduler's; pinned, podcd's two reactor threads share one core (docs/benchmarks.md).
pin_server=() pin_load=()
if [ "${PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 0) pin_load=(taskset -c 1)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }

body='{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}'
good_sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')"
bad_sig="sha256=$(printf '%064d' 0)"

lua() {  # lua FILE SIG [DELIVERY]
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "$2"
LUA
  if [ -n "${3:-}" ]; then echo "wrk.headers[\"X-GitHub-Delivery\"] = \"$3\"" >> "$1"; fi
}
lua "$work/bad.lua" "$bad_sig"
lua "$work/dup.lua" "$good_sig" "bench-delivery-1"

start_podcd() {  # start_podcd PORT FAILURES_PER_MINUTE -> sets podcd_pid
  mkdir -p "$work/state-$1" "$work/repo/services"
  cat > "$work/podcd-$1.yml" <<YML
listen: 127.0.0.1:$1
webhook:
  secret: "$SECRET"
  auth_failures_per_minute: $2
repo:
  path: $work/repo
state_dir: $work/state-$1
log:
  level: error
YML
  "${pin_server[@]}" "$PODCD" --config "$work/podcd-$1.yml" serve >"$work/podcd-$1.log" 2>&1 &
  podcd_pid=$!
  pids+=("$podcd_pid")
  wait_port "$1"
}

run_wrk() {  # run_wrk URL LUA PID -> prints "reqs p99 loaded_rss_kb codes"
  local out
  out=$("${pin_load[@]}" wrk -t2 -c50 -d"$DURATION" --latency -s "$2" "$1" 2>&1 & local w=$!; sleep 2.5; rss_kb "$3" > "$work/loaded"; wait $w)
  local reqs p99 non2xx
  reqs=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  echo "$reqs $p99 $(cat "$work/loaded") ${non2xx:-0}"
}

status_of() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Content-Type: application/json" \
  -H "X-Hub-Signature-256: $2" ${3:+-H "X-GitHub-Delivery: $3"} --data "$body" "$1"; }

to_ms() {  # wrk latency "1.23ms" / "850.00us" / "1.01s" -> ms
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'
}

echo "== podcd $("$PODCD" --version | awk '{print $2}') vs webhook $(webhook -version | awk '{print $3}'), wrk -t2 -c50 -d$DURATION, $(nproc) cores${pin_server:+, servers on core 0 and wrk on core 1}"

connection_of() {  # connection_of URL -> the Connection field of a plain HTTP/1.1 answer, or "(none)"
  local v
  v=$(curl -s -o /dev/null -D - -X POST --data "$body" -H "X-Hub-Signature-256: $bad_sig" "$1" |
    awk -F': ' 'tolower($1)=="connection" {sub(/\r$/, "", $2); print $2}')
  echo "${v:-(none)}"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

p1=$(free_port); start_podcd "$p1" 10; pid1=$podcd_pid          # default limiter
p2=$(free_port); start_podcd "$p2" 1000000; pid2=$podcd_pid     # limiter off: every request verified
p4=$(free_port)
cat > "$work/hooks.json" <<JSON
[{"id": "deploy-all-changed", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$SECRET",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
"${pin_server[@]}" webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$p4" >"$work/webhook.log" 2>&1 &
pid4=$!; pids+=("$pid4")
wait_port "$p4"
sleep 1
idle1=$(rss_kb "$pid1"); idle2=$(rss_kb "$pid2"); idle4=$(rss_kb "$pid4")
u1="http://127.0.0.1:$p1/deploy-all-changed"
u2="http://127.0.0.1:$p2/deploy-all-changed"
u4="http://127.0.0.1:$p4/hooks/deploy-all-changed"

conn_podcd=$(connection_of "$u2"); conn_webhook=$(connection_of "$u4")
first=$(status_of "$u1" "$bad_sig")
code2=$(status_of "$u2" "$bad_sig")
code_first=$(status_of "$u2" "$good_sig" "bench-delivery-1")   # queues one deployment; the rest are duplicates
code4=$(status_of "$u4" "$bad_sig")

# Each round runs the four scenarios back to back, so each sees the machine the others see.
for round in $(seq "$ROUNDS"); do
  run_wrk "$u1" "$work/bad.lua" "$pid1" >> "$work/s1"
  run_wrk "$u2" "$work/bad.lua" "$pid2" >> "$work/s2"
  run_wrk "$u2" "$work/dup.lua" "$pid2" >> "$work/s3"
  run_wrk "$u4" "$work/bad.lua" "$pid4" >> "$work/s4"
  last() { tail -1 "$work/$1" | awk '{printf "%.0f req/s p99 %s", $1, $2}'; }
  echo "round $round/$ROUNDS: podcd $(last s1), $(last s2), $(last s3) | webhook $(last s4)" >&2
done
after=$(status_of "$u1" "$bad_sig")
code3=$(status_of "$u2" "$good_sig" "bench-delivery-1")
hwm1=$(hwm_kb "$pid1"); hwm2=$(hwm_kb "$pid2"); hwm4=$(hwm_kb "$pid4")

# med FILE -> "median_reqs median_p99_ms max_loaded_rss_kb total_non2xx"
med() {
  local reqs p99
  reqs=$(awk '{print $1}' "$1" | median)
  p99=$(while read -r _ l _ _; do to_ms "$l"; echo; done < "$1" | median)
  echo "$reqs $p99 $(awk '$3 > m {m = $3} END {print m+0}' "$1") $(awk '{n += $4} END {print n+0}' "$1")"
}
read -r r1 l1 rss1 n1 < <(med "$work/s1")
read -r r2 l2 rss2 n2 < <(med "$work/s2")
read -r r3 l3 rss3 n3 < <(med "$work/s3")
read -r r4 l4 rss4 n4 < <(med "$work/s4")

echo "Connection field of a plain HTTP/1.1 answer: podcd $conn_podcd, webhook $conn_webhook"
printf '\nmedians of %s rounds\n' "$ROUNDS"
printf '%-52s %12s %10s %10s %10s %10s\n' "scenario (answer)" "req/s" "p99 ms" "idle MB" "load MB" "peak MB"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k/1024 }'; }
printf '%-52s %12.0f %10s %10s %10s %10s\n' "podcd wrong sig, default limiter ($first, then $after)" "$r1" "$l1" "$(mb "$idle1")" "$(mb "$rss1")" "$(mb "$hwm1")"
printf '%-52s %12.0f %10s %10s %10s %10s\n' "podcd wrong sig, limiter 1e6/min ($code2)" "$r2" "$l2" "$(mb "$idle2")" "$(mb "$rss2")" "-"
printf '%-52s %12.0f %10s %10s %10s %10s\n' "podcd duplicate delivery ($code_first, then $code3)" "$r3" "$l3" "-" "$(mb "$rss3")" "$(mb "$hwm2")"
printf '%-52s %12.0f %10s %10s %10s %10s\n' "webhook 2.8.0 wrong sig ($code4)" "$r4" "$l4" "$(mb "$idle4")" "$(mb "$rss4")" "$(mb "$hwm4")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "-"; else printf "%.2f", a/b }'; }
echo
echo "ratios podcd/webhook (wrong signature, medians):"
echo "  req/s    limiter on $(ratio "$r1" "$r4")x, limiter off $(ratio "$r2" "$r4")x"
echo "  p99      limiter on $(ratio "$l1" "$l4")x, limiter off $(ratio "$l2" "$l4")x (lower is better)"
echo "  idle RSS $(ratio "$idle1" "$idle4")x"
echo "non-2xx counted by wrk over all rounds: podcd $n1 / $n2, duplicates $n3 (200s), webhook $n4"
