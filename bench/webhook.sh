#!/usr/bin/env bash
# Webhook server benchmark: podcd vs adnanh/webhook 2.8.0, same machine, same run, loopback only.
# wrk -t2 -c50 -d5s --latency with Lua scripts that POST
#   1. a wrong X-Hub-Signature-256 (podcd with its default limiter: 10 failures/min/address),
#   2. a wrong X-Hub-Signature-256 with podcd's limiter raised to 1,000,000/min (full HMAC + 401 path),
#   3. a correctly signed request with an already seen X-GitHub-Delivery (200 duplicate; podcd only:
#      webhook has no duplicate detection),
# and the wrong signature against webhook. Prints req/s, p99 and RSS (idle, loaded) and ratios.
#   BUILD_DIR=build bench/webhook.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PODCD=${PODCD:-$BUILD_DIR/src/podcd}
DURATION=${DURATION:-5s}
SECRET="bench-secret-0123456789abcdef"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
command -v webhook >/dev/null || { echo "webhook is not installed (apt-get install webhook)"; exit 1; }
[ -x "$PODCD" ] || { echo "no podcd binary at $PODCD (build first)"; exit 1; }

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
wrk.headers["Connection"] = "keep-alive"
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
  "$PODCD" --config "$work/podcd-$1.yml" serve >"$work/podcd-$1.log" 2>&1 &
  podcd_pid=$!
  pids+=("$podcd_pid")
  wait_port "$1"
}

run_wrk() {  # run_wrk URL LUA PID -> prints "reqs p99 loaded_rss_kb codes"
  local out
  out=$(wrk -t2 -c50 -d"$DURATION" --latency -s "$2" "$1" 2>&1 & local w=$!; sleep 2.5; rss_kb "$3" > "$work/loaded"; wait $w)
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

echo "== podcd $("$PODCD" --version | awk '{print $2}') vs webhook $(webhook -version | awk '{print $3}'), wrk -t2 -c50 -d$DURATION, $(nproc) cores"

# podcd, default limiter
p1=$(free_port); start_podcd "$p1" 10; pid1=$podcd_pid
idle1=$(rss_kb "$pid1")
first=$(status_of "http://127.0.0.1:$p1/deploy-all-changed" "$bad_sig")
read -r r1 l1 rss1 n1 < <(run_wrk "http://127.0.0.1:$p1/deploy-all-changed" "$work/bad.lua" "$pid1")
after=$(status_of "http://127.0.0.1:$p1/deploy-all-changed" "$bad_sig")
hwm1=$(hwm_kb "$pid1")

# podcd, limiter effectively off: every request is verified and answered 401
p2=$(free_port); start_podcd "$p2" 1000000; pid2=$podcd_pid
idle2=$(rss_kb "$pid2")
read -r r2 l2 rss2 n2 < <(run_wrk "http://127.0.0.1:$p2/deploy-all-changed" "$work/bad.lua" "$pid2")
code2=$(status_of "http://127.0.0.1:$p2/deploy-all-changed" "$bad_sig")

# podcd, duplicate delivery (first request queues one deployment, the rest are duplicates)
code_first=$(status_of "http://127.0.0.1:$p2/deploy-all-changed" "$good_sig" "bench-delivery-1")
read -r r3 l3 rss3 n3 < <(run_wrk "http://127.0.0.1:$p2/deploy-all-changed" "$work/dup.lua" "$pid2")
code3=$(status_of "http://127.0.0.1:$p2/deploy-all-changed" "$good_sig" "bench-delivery-1")
hwm2=$(hwm_kb "$pid2")

# adnanh/webhook with the same wrong signature
p4=$(free_port)
cat > "$work/hooks.json" <<JSON
[{"id": "deploy-all-changed", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$SECRET",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$p4" >"$work/webhook.log" 2>&1 &
pid4=$!; pids+=("$pid4")
wait_port "$p4"
idle4=$(rss_kb "$pid4")
code4=$(status_of "http://127.0.0.1:$p4/hooks/deploy-all-changed" "$bad_sig")
read -r r4 l4 rss4 n4 < <(run_wrk "http://127.0.0.1:$p4/hooks/deploy-all-changed" "$work/bad.lua" "$pid4")
hwm4=$(hwm_kb "$pid4")

printf '\n%-52s %12s %10s %10s %10s %10s\n' "scenario (answer)" "req/s" "p99 ms" "idle MB" "load MB" "peak MB"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k/1024 }'; }
printf '%-52s %12s %10s %10s %10s %10s\n' "podcd wrong sig, default limiter ($first, then $after)" "$r1" "$(to_ms "$l1")" "$(mb "$idle1")" "$(mb "$rss1")" "$(mb "$hwm1")"
printf '%-52s %12s %10s %10s %10s %10s\n' "podcd wrong sig, limiter 1e6/min ($code2)" "$r2" "$(to_ms "$l2")" "$(mb "$idle2")" "$(mb "$rss2")" "-"
printf '%-52s %12s %10s %10s %10s %10s\n' "podcd duplicate delivery ($code_first, then $code3)" "$r3" "$(to_ms "$l3")" "-" "$(mb "$rss3")" "$(mb "$hwm2")"
printf '%-52s %12s %10s %10s %10s %10s\n' "webhook 2.8.0 wrong sig ($code4)" "$r4" "$(to_ms "$l4")" "$(mb "$idle4")" "$(mb "$rss4")" "$(mb "$hwm4")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "-"; else printf "%.2f", a/b }'; }
echo
echo "ratios podcd/webhook (wrong signature):"
echo "  req/s    limiter on $(ratio "$r1" "$r4")x, limiter off $(ratio "$r2" "$r4")x"
echo "  p99      limiter on $(ratio "$(to_ms "$l1")" "$(to_ms "$l4")")x, limiter off $(ratio "$(to_ms "$l2")" "$(to_ms "$l4")")x (lower is better)"
echo "  idle RSS $(ratio "$idle1" "$idle4")x"
echo "non-2xx counted by wrk: podcd $n1 / $n2, duplicates $n3 (200s), webhook $n4"
