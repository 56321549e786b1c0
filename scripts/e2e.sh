#!/usr/bin/env bash
# End-to-end test of the product as users install it: podcd's image built from the
# Containerfile, started with the project's podman-compose.yml against a real (isolated)
# rootful Podman, deploying an environment repository of small stacks through signed webhooks.
#
#   bash scripts/e2e.sh                  # as root, after scripts/setup.sh --no-build
#   E2E_SELF_UPDATE=0 bash scripts/e2e.sh  # without scenarios (d)-(f), podcd replacing itself
#   E2E_BENCH=1 bash scripts/e2e.sh        # also the latency/RSS figures (bench/e2e_latency.sh)
#
# Variables: E2E_DIR (work directory, default /tmp/podcd-e2e; short, as a unix socket lives
# under it), E2E_CACHE_DIR (default /var/cache/podcd-e2e: the Debian base image tarball),
# E2E_KEEP=1 (leave everything running after the run, for debugging; cleanup is then
# `scripts/testenv.sh stop $E2E_DIR/env` plus removing $E2E_DIR), E2E_SCENARIOS=0 (skip a-c).
#
# How podcd reaches the repository: the bare "remote" is a directory inside podcd's state
# directory and is cloned over file://. podcd runs in a bridge network namespace, where the
# host's 127.0.0.1 (a git daemon on loopback) is unreachable; host networking would need an
# e2e-only override of the compose file, and the self-update scenario redeploys podcd from
# services/podcd/compose.yml, which cannot carry that override. The state directory is
# mounted at the same path inside and outside the container (see podman-compose.yml), so the
# file:// URL means the same in both places, for podman-compose's podcd and podcd's podcd.
#
# Every check that fails stops the run with "e2e: FAILED: <check>" and exit 1; the EXIT trap
# removes the containers, networks and volumes, stops the Podman service and registries it
# started (scripts/testenv.sh stop) and deletes the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

WORK=${E2E_DIR:-/tmp/podcd-e2e}
CACHE=${E2E_CACHE_DIR:-/var/cache/podcd-e2e}
# The base image is rebuilt monthly (security updates) or when this version string changes.
BASE_KEY="bookworm-slim-v1-$(date +%Y-%m)"
IMAGE=localhost/podcd:e2e
PODCD=podcd_podcd_1
SECRET=e2e-webhook-secret-0123456789abcdef
TOKEN=e2e-api-token-0123456789abcdef
PODCD_UID=10001

T0=$(date +%s.%N)
log() { printf 'e2e: %s\n' "$*"; }
FAILED_WITH=""
fail() {
  FAILED_WITH="$*"
  printf 'e2e: FAILED: %s\n' "$*" >&2
  exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# step NAME FUNCTION...: prints the step, runs it, prints its duration.
step() {
  local name=$1 s
  shift
  s=$(now)
  log "=== $name"
  "$@"
  log "--- $name: ok ($(elapsed "$s") s)"
}

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful Podman)"
for tool in podman podman-compose git curl debootstrap ss python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/setup.sh"
done

# ---------------------------------------------------------------------------------------------
# Cleanup (always)

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ] && [ -f "$WORK/env/env.sh" ]; then
    log "podcd's last log lines:"
    podman logs --tail 60 "$PODCD" 2>&1 | sed 's/^/    /'
    log "podcd and updater containers:"
    for filter in label=io.podcd.stack=podcd label=io.podcd.updater; do
      # Podman 4.3's `ps` has no restart count: ask `inspect` for it.
      podman ps -a --filter "$filter" --format '{{.ID}}' 2>&1 | while read -r c; do
        echo "$(podman ps -a --filter "id=$c" --format '{{.Names}} {{.ID}} {{.Status}}')" \
          "restarts=$(podman inspect --format '{{.RestartCount}}' "$c" 2>&1)"
      done | sed 's/^/    /'
    done
    if podman container exists podcd_podcd-updater 2>/dev/null; then
      log "the updater's last log lines:"
      podman logs --tail 30 podcd_podcd-updater 2>&1 | sed 's/^/    /'
    fi
    log "the Podman service's last errors and warnings:"
    grep -E 'level=(error|warning)' "$WORK/env/podman.log" 2>/dev/null | tail -15 | cut -c1-300 | sed 's/^/    /'
    if [ -n "${PORT_PODCD:-}" ]; then
      log "the last deployment records:"
      api GET "/deployments?limit=2" | python3 -c 'import json,sys
for d in json.load(sys.stdin)["deployments"]:
    print("   ", d["id"], d["state"], d.get("reason", ""))
    for l in d.get("log", []): print("     ", l)' 2>&1 | tail -80
    fi
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    log "E2E_KEEP=1: left running in $WORK (stop: scripts/testenv.sh stop $WORK/env; rm -rf $WORK)"
    exit "$rc"
  fi
  if [ -f "$WORK/env/env.sh" ]; then
    # podcd first, so that it creates nothing while the stacks go; then everything labelled
    # by podcd or podman-compose, their networks and volumes. testenv stop removes the rest.
    podman rm --force --time 0 "$PODCD" >/dev/null 2>&1
    podman ps -aq --filter label=io.podcd.stack | xargs -r podman rm --force --time 0 >/dev/null 2>&1
    podman network ls -q --filter label=io.podcd.stack | xargs -r podman network rm --force >/dev/null 2>&1
    podman network rm --force podcd_default >/dev/null 2>&1
    podman volume ls -q --filter label=io.podcd.stack | xargs -r podman volume rm --force >/dev/null 2>&1
  fi
  bash "$ROOT/scripts/testenv.sh" stop "$WORK/env" >/dev/null 2>&1
  rm -rf "$WORK"
  log "cleaned up; total $(elapsed "$T0") s"
  # Last, so that a CI log cut to its tail still says what failed.
  [ -z "$FAILED_WITH" ] || printf 'e2e: FAILED: %s\n' "$FAILED_WITH" >&2
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# Setup

# The Debian base image without a registry: debootstrap (about 40 s), trimmed the way the
# official debian:bookworm-slim is (no docs, manuals or translations), cached as a tarball.
base_image() {
  local tar="$CACHE/debian-$BASE_KEY.tar"
  if [ -s "$tar" ]; then
    log "base image: reusing $tar"
  else
    log "base image: debootstrap into $tar (cached for later runs)"
    mkdir -p "$CACHE"
    rm -f "$CACHE"/debian-bookworm-slim-*.tar  # older months and versions
    local rootfs="$CACHE/rootfs.$$"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian \
      >"$CACHE/debootstrap.log" 2>&1 || { rm -rf "$rootfs"; fail "debootstrap (see $CACHE/debootstrap.log)"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
      "$rootfs"/usr/share/lintian/*
    # As in the official image: later apt runs do not keep .debs or package caches.
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
    printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
      'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"$rootfs/etc/apt/apt.conf.d/docker-clean"
    tar -C "$rootfs" -c . >"$tar.tmp"
    mv "$tar.tmp" "$tar"
    rm -rf "$rootfs"
  fi
  podman import --quiet - docker.io/library/debian:bookworm-slim <"$tar" >/dev/null
  log "base image: $(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm-slim) bytes"
}

start_env() {
  bash "$ROOT/scripts/testenv.sh" start "$WORK/env"
  # shellcheck disable=SC1091
  . "$WORK/env/env.sh"
  SOCK=$PODCD_TEST_PODMAN_SOCKET
  # The mode Debian's podman.socket unit gives /run/podman/podman.sock: podcd's user (group 0)
  # reaches it through the group bit, as on a real host.
  chmod 0660 "$SOCK"
}

# --network host: the RUN steps reach Debian's mirror without the NAT of a build network
# (one run here failed with "Temporary failure resolving deb.debian.org" behind it). One retry
# for the mirror's own hiccups.
build_image() {
  local try
  for try in 1 2; do
    podman build --format docker --network host --build-arg JOBS=2 -t "$IMAGE" -f Containerfile . \
      >"$WORK/build.log" 2>&1 && break
    [ "$try" = 1 ] && grep -qE 'Failed to fetch|Temporary failure|Unable to locate package' "$WORK/build.log" &&
      { log "build: apt could not reach the mirror; retrying once"; continue; }
    tail -40 "$WORK/build.log"
    fail "podman build of the Containerfile"
  done
  IMAGE_SIZE=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  log "image $IMAGE: $IMAGE_SIZE bytes ($(awk -v s="$IMAGE_SIZE" 'BEGIN { printf "%.1f", s / 1e6 }') MB)"
  [ "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = "$PODCD_UID:0" ] ||
    fail "image user is not $PODCD_UID:0"
  [[ $(podman image inspect --format '{{.Config.Healthcheck.Test}}' "$IMAGE") == *"podcd health"* ]] ||
    fail "image has no HEALTHCHECK podcd health"
}

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Hltn "sport = :$p")" ] && ! [[ " ${USED_PORTS:-} " == *" $p "* ]]; then
      USED_PORTS="${USED_PORTS:-} $p"
      echo "$p"
      return 0
    fi
  done
  fail "no free port"
}

# The web stacks' healthcheck retries within one run: Podman 4.3's `healthcheck run` answers
# "unhealthy" for any failing run (start_period and retries are not applied to a single run),
# and podcd's deploy gate takes that answer as final, so a check that runs before httpd
# listens would fail the deployment.
HEALTH_TEST='for i in 1 2 3 4 5 6 7 8 9 10; do timeout 2 wget -q -O /dev/null http://127.0.0.1/ && exit 0; sleep 0.2; done; exit 1'

# The environment repository: web1 (content from an environment variable), web2 (a file of the
# repository, bind-mounted), slow (no healthcheck: podcd's settle gate holds its deployment for
# health.settle, 5 s; it serves only after DELAY seconds) and podcd's own stack.
write_stack_web1() {  # MSG [IMAGE]
  mkdir -p "$DEV/services/web1"
  cat >"$DEV/services/web1/compose.yml" <<EOF
services:
  web:
    image: ${2:-localhost/bb:1}
    init: true
    environment:
      MSG: "$1"
    command: ["sh", "-c", "mkdir -p /w && echo \"\$\$MSG\" > /w/index.html && exec httpd -f -p 80 -h /w"]
    ports: ["127.0.0.1:$PORT_WEB1:80"]
    healthcheck:
      test: ["CMD-SHELL", "$HEALTH_TEST"]
      interval: 200ms
      timeout: 5s
      retries: 5
EOF
}

write_stack_slow() {  # VERSION DELAY
  mkdir -p "$DEV/services/slow"
  cat >"$DEV/services/slow/compose.yml" <<EOF
services:
  app:
    image: localhost/bb:1
    init: true
    environment:
      VERSION: "$1"
    command: ["sh", "-c", "sleep $2; mkdir -p /w && echo \"slow \$\$VERSION\" > /w/index.html && exec httpd -f -p 80 -h /w"]
    ports: ["127.0.0.1:$PORT_SLOW:80"]
EOF
}

make_repo() {
  DATA=$WORK/data  # podcd's state directory, the same path inside its container
  REMOTE=$DATA/remote.git
  DEV=$WORK/dev
  SECRETS=$WORK/secrets
  PORT_PODCD=$(free_port)
  PORT_WEB1=$(free_port)
  PORT_WEB2=$(free_port)
  PORT_SLOW=$(free_port)
  mkdir -p "$DATA" "$SECRETS"
  printf '%s\n' "$SECRET" >"$SECRETS/webhook_secret"
  printf '%s\n' "$TOKEN" >"$SECRETS/api_token"
  # Readable by podcd's user through group 0, as the compose file's comment asks of users.
  chmod 0750 "$SECRETS"
  chmod 0640 "$SECRETS"/*
  git init --quiet --bare --initial-branch=main "$REMOTE"
  git init --quiet --initial-branch=main "$DEV"
  git -C "$DEV" config user.email e2e@podcd.test
  git -C "$DEV" config user.name "podcd e2e"

  write_stack_web1 "web1 v1"
  mkdir -p "$DEV/services/web2/www"
  echo "web2 v1" >"$DEV/services/web2/www/index.html"
  cat >"$DEV/services/web2/compose.yml" <<EOF
services:
  web:
    image: localhost/bb:1
    init: true
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    ports: ["127.0.0.1:$PORT_WEB2:80"]
    volumes: ["./www:/www:ro"]
    healthcheck:
      test: ["CMD-SHELL", "$HEALTH_TEST"]
      interval: 200ms
      timeout: 5s
      retries: 5
EOF
  write_stack_slow 1 1
  mkdir -p "$DEV/services/podcd"
  cp "$ROOT/podman-compose.yml" "$DEV/services/podcd/compose.yml"
  cat >"$DEV/services/podcd/.env" <<EOF
PODCD_IMAGE=$IMAGE
PODCD_REPO_URL=file://$REMOTE
PODCD_STATE_DIR=$DATA
PODCD_SECRETS_DIR=$SECRETS
PODMAN_SOCKET=$SOCK
PODCD_PORT=$PORT_PODCD
EOF
  push "initial: web1, web2, slow, podcd"
  # podcd's user owns its state directory. The bare remote in it stays root's (the developer
  # clone pushes as root, and git refuses to push into a repository of another owner);
  # libgit2 reads it as uid 10001 over file:// without complaint.
  chown "$PODCD_UID:0" "$DATA"
  chmod 0770 "$DATA"
}

push() {  # MESSAGE
  git -C "$DEV" add -A
  git -C "$DEV" commit --quiet -m "$1"
  git -C "$DEV" push --quiet "$REMOTE" main 2>&1
}

# The environment podman-compose (and podcd, from services/podcd/.env) reads.
compose_env() {
  env PODCD_IMAGE="$IMAGE" PODCD_REPO_URL="file://$REMOTE" PODCD_STATE_DIR="$DATA" \
    PODCD_SECRETS_DIR="$SECRETS" PODMAN_SOCKET="$SOCK" PODCD_PORT="$PORT_PODCD" "$@"
}

check_compose() {
  # podman-compose 1.0.3 has no `config`: --dry-run prints the podman commands it would run
  # (it does create the project network, in the test store). Interpolation, the container
  # name and the healthcheck command are what matter here.
  compose_env podman-compose --dry-run -p podcd -f "$ROOT/podman-compose.yml" up -d >"$WORK/compose-config.txt" 2>&1 ||
    { cat "$WORK/compose-config.txt"; fail "podman-compose --dry-run up of podman-compose.yml"; }
  grep -q -- "--name=$PODCD " "$WORK/compose-config.txt" || fail "podman-compose: container name is not $PODCD"
  grep -q -- "--healthcheck-command /bin/sh -c 'podcd health'" "$WORK/compose-config.txt" ||
    fail "podman-compose: healthcheck command is not sh -c 'podcd health'"
  # ... and so does podcd, as services/podcd/compose.yml of the environment repository, with
  # the configuration the container gets (policy exceptions for its own stack included).
  local out
  out=$(podman run --rm --no-healthcheck --network none -v "$DEV:$DEV:ro" -v "$SECRETS:/run/secrets/podcd:ro" \
    -e WEBHOOK_SECRET_FILE=/run/secrets/podcd/webhook_secret -e PODCD_REPO_PATH="$DEV" \
    -e PODCD_STATE_DIR=/tmp -e DEPLOY_SERVER_NAME=podcd \
    -e PODCD_POLICY_ALLOW="podcd:podman_socket,host_binds" \
    "$IMAGE" check-config 2>&1) || { echo "$out"; fail "podcd check-config over the environment repository"; }
  printf '%s\n' "$out" | sed 's/^/    /'  # indented
  [[ $out == *"stacks: 4 valid, 0 with errors"* ]] || fail "podcd check-config: expected 4 valid stacks"
}

# api METHOD PATH [curl args...]: prints the body; `status` prints the HTTP status afterwards
# (a file, as api usually runs in a command substitution's subshell).
api() {
  local method=$1 path=$2
  shift 2
  local out
  out=$(curl -sS -m 130 -o "$WORK/api.body" -w '%{http_code}' -X "$method" \
    -H "Authorization: Bearer $TOKEN" "$@" "http://127.0.0.1:$PORT_PODCD$path") || out=000
  echo "$out" >"$WORK/api.status"
  cat "$WORK/api.body" 2>/dev/null || true
}
status() { cat "$WORK/api.status"; }

json() {  # EXPR: evaluates a Python expression over the JSON on stdin (bound to j)
  python3 -c "import json,sys; j=json.load(sys.stdin); v=($1); print(v if not isinstance(v,(dict,list)) else json.dumps(v))"
}

# signed_push: a GitHub push body for HEAD and its X-Hub-Signature-256 (by `podcd sign`, run
# from the image), in BODY and SIG.
signed_push() {
  BODY=$(printf '{"ref":"refs/heads/main","after":"%s","repository":{"full_name":"e2e/env"}}' \
    "$(git -C "$DEV" rev-parse HEAD)")
  SIG=$(printf '%s' "$BODY" | podman run --rm --no-healthcheck -i --network none -v "$SECRETS:/s:ro" "$IMAGE" \
    sign --secret-file /s/webhook_secret -)
}

# send_push [?QUERY]: POSTs BODY with SIG to /deploy-all-changed; prints the answer.
send_push() {
  api POST "/deploy-all-changed${1:-}" -H "Content-Type: application/json" \
    -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: e2e-$(date +%s%N)" \
    -H "X-Hub-Signature-256: $SIG" --data-binary "$BODY"
}

# webhook [?QUERY]: a signed GitHub push to /deploy-all-changed; prints the answer.
webhook() {
  signed_push
  send_push "${1:-}"
}

wait_health() {  # SECONDS
  local i
  for i in $(seq $(($1 * 5))); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_PODCD/health")" = 200 ] && return 0
    sleep 0.2
  done
  fail "podcd /health did not answer 200 within $1 s"
}

# change_self SCENARIO SED_EXPR GREP_PATTERN MESSAGE: edits services/podcd/compose.yml, pushes
# it and sends the webhook; sets `id` to the deployment it queued.
change_self() {
  local answer
  sed -i "$2" "$DEV/services/podcd/compose.yml"
  grep -q "$3" "$DEV/services/podcd/compose.yml" || fail "($1) could not edit the compose file"
  push "$4"
  answer=$(webhook)
  [ "$(status)" = 202 ] || fail "($1) webhook: HTTP $(status): $answer"
  id=$(echo "$answer" | json "j['deployment']")
}

# revert_self SCENARIO SED_EXPR MESSAGE OLD_ID: a commit back to what runs is a no-op: the
# podcd container stays OLD_ID and its stack is in sync.
revert_self() {
  local answer
  sed -i "$2" "$DEV/services/podcd/compose.yml"
  push "$3"
  answer=$(webhook "?wait=60")
  [ "$(status)" = 200 ] || fail "($1) webhook after the revert: HTTP $(status): $answer"
  [ "$(podman inspect --format '{{.Id}}' "$PODCD")" = "$4" ] || fail "($1) podcd was replaced by the revert"
  wait_in_sync 30 podcd
}

# wait_failed SCENARIO ID: waits up to 120 s for the record to be failed; sets `record`.
wait_failed() {
  wait_finished "$1" "$2"
  [ "$(echo "$record" | json "j['state']")" = failed ] || fail "($1) deployment $2 is not failed: $record"
}

# wait_finished SCENARIO ID: waits up to 120 s for the record to be finished; sets `record`.
wait_finished() {
  local i
  for i in $(seq 240); do
    record=$(api GET "/deployments/$2" 2>/dev/null || true)
    case "$(echo "$record" | json "j.get('state', '')" 2>/dev/null)" in
      failed | succeeded | superseded) return 0 ;;
    esac
    sleep 0.5
  done
  fail "($1) deployment $2 did not finish within 120 s: ${record:-podcd does not answer}"
}

served() { curl -s -m 3 "http://127.0.0.1:$1/" 2>/dev/null || true; }

# wait_served PORT TEXT SECONDS
wait_served() {
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(served "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "127.0.0.1:$1 does not serve \"$2\" within $3 s (serves \"$(served "$1")\")"
}

stack_state() {  # NAME: its state in GET /stacks
  api GET /stacks | json "[s['state'] for s in j['stacks'] if s['name']=='$1'][0]" 2>/dev/null || echo "?"
}

wait_in_sync() {  # SECONDS STACK...
  local secs=$1 i s all
  shift
  for i in $(seq $((secs * 2))); do
    all=1
    for s in "$@"; do [ "$(stack_state "$s")" = in-sync ] || all=0; done
    [ "$all" = 1 ] && return 0
    sleep 0.5
  done
  api GET /stacks >&2
  echo >&2
  fail "stacks $* not in-sync within $secs s"
}

# ids: "name id fingerprint" of every container of the given stacks, sorted.
ids() {
  local s
  for s in "$@"; do
    podman ps -a --filter "label=io.podcd.stack=$s" --format '{{.Names}} {{.ID}} {{.Labels}}' |
      sed -E 's/^([^ ]+) ([^ ]+) .*io\.podcd\.fingerprint:([0-9a-f]+).*/\1 \2 \3/'
  done | sort
}

start_podcd() {
  compose_env podman-compose -p podcd -f "$ROOT/podman-compose.yml" up -d >"$WORK/compose-up.log" 2>&1 ||
    { cat "$WORK/compose-up.log"; fail "podman-compose up -d"; }
  wait_health 60
  # The start-up reconcile deploys the three stacks. podcd's own container, started by
  # podman-compose, has no fingerprint: without the self-update it is left as is ("changed");
  # with it, the first reconcile replaces it, which the scenarios must not run into.
  wait_in_sync 120 web1 web2 slow
  if [ "${E2E_SELF_UPDATE:-1}" = 1 ]; then
    wait_in_sync 180 podcd
    wait_health 60
  fi
  # Checked once the start-up self-update has settled: while it runs, $PODCD is briefly
  # absent (the updater removes it before it renames the replacement).
  [ "$(podman inspect --format '{{.Config.User}}' "$PODCD")" = "$PODCD_UID:0" ] ||
    fail "podcd does not run as $PODCD_UID:0"
  [ "$(podman inspect --format '{{index .Config.Labels "io.podcd.stack"}}' "$PODCD")" = podcd ] ||
    fail "podcd's container lacks the label io.podcd.stack=podcd"
  wait_served "$PORT_WEB1" "web1 v1" 10
  wait_served "$PORT_WEB2" "web2 v1" 10
  wait_served "$PORT_SLOW" "slow 1" 10
}

podcd_pid() { podman inspect --format '{{.State.Pid}}' "$PODCD"; }
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------------
# Scenarios

# (a) one stack changes: only its containers are replaced, and it serves the new content.
scenario_one_stack() {
  local before after record
  before=$(ids web2 slow)
  local web1_before
  web1_before=$(ids web1)
  write_stack_web1 "web1 v2"
  push "web1: v2"
  record=$(webhook "?wait=120")
  [ "$(status)" = 200 ] || fail "(a) webhook with wait: HTTP $(status): $record"
  [ "$(echo "$record" | json "j['state']")" = succeeded ] || fail "(a) deployment not succeeded: $record"
  [ "$(echo "$record" | json "[s['outcome'] for s in j['stacks'] if s['name']=='web1'][0]")" = updated ] ||
    fail "(a) web1's outcome is not updated: $record"
  after=$(ids web2 slow)
  [ "$before" = "$after" ] || fail "(a) other stacks' containers changed: before [$before] after [$after]"
  [ "$web1_before" != "$(ids web1)" ] || fail "(a) web1's container did not change"
  [ "$(served "$PORT_WEB1")" = "web1 v2" ] || fail "(a) web1 serves \"$(served "$PORT_WEB1")\", not \"web1 v2\""
  [ "$(served "$PORT_WEB2")" = "web2 v1" ] || fail "(a) web2 stopped serving"
  log "(a) web1 replaced ($(echo "$record" | json "[s['duration_ms'] for s in j['stacks'] if s['name']=='web1'][0]") ms in the record); web2, slow untouched"
}

# (b) a broken commit (an image tag that does not exist) fails; the old container serves on.
scenario_broken() {
  local before record id
  before=$(ids web1 web2 slow)
  write_stack_web1 "web1 v3" "localhost/bb:does-not-exist"
  push "web1: broken image tag"
  record=$(webhook "?wait=120")
  [ "$(status)" = 500 ] || fail "(b) webhook with wait: expected HTTP 500, got $(status): $record"
  id=$(echo "$record" | json "j['id']")
  record=$(api GET "/deployments/$id")
  [ "$(echo "$record" | json "j['state']")" = failed ] || fail "(b) GET /deployments/$id: not failed: $record"
  [ "$(echo "$record" | json "[s['outcome'] for s in j['stacks'] if s['name']=='web1'][0]")" = failed ] ||
    fail "(b) web1's outcome is not failed: $record"
  [ "$before" = "$(ids web1 web2 slow)" ] || fail "(b) containers changed after a failed deployment"
  [ "$(served "$PORT_WEB1")" = "web1 v2" ] || fail "(b) web1 no longer serves \"web1 v2\""
  log "(b) deployment $id failed: $(echo "$record" | json "[s['reason'] for s in j['stacks'] if s['name']=='web1'][0]" | cut -c1-120)"
}

# (c) podcd is killed (SIGKILL) in the middle of a deployment, restarts, marks that deployment
# interrupted and converges.
scenario_kill() {
  local answer id i state restarted=""
  # web1 back to its good state in the same commit: it needs no work (its containers match).
  write_stack_web1 "web1 v2"
  write_stack_slow 2 8
  push "slow: v2, healthy after 8 s; web1 back to v2"
  answer=$(webhook)
  [ "$(status)" = 202 ] || fail "(c) webhook: expected 202, got $(status): $answer"
  id=$(echo "$answer" | json "j['deployment']")
  # Until slow's new container exists (podcd is then in its 5 s settle gate).
  local next=""
  for i in $(seq 100); do
    next=$(podman ps -a --filter label=io.podcd.stack=slow --format '{{.Names}}' | grep -v '^slow_app_1$' || true)
    [ -n "$next" ] && break
    state=$(api GET "/deployments/$id" | json "j['state']")
    [ "$state" = running ] || [ "$state" = queued ] || fail "(c) deployment $id ended ($state) before the kill"
    sleep 0.1
  done
  [ -n "$next" ] || fail "(c) slow's new container did not appear within 10 s"
  # SIGKILL to podcd's process from the host, as the OOM killer or a crash would end it.
  # (`podman kill -s KILL` counts as a stop by the user: Podman does not apply the restart
  # policy after it.) The restart policy of podman-compose.yml must bring podcd back.
  local old_pid
  old_pid=$(podcd_pid)
  log "(c) deployment $id is running, $next exists; kill -9 podcd (pid $old_pid)"
  kill -KILL "$old_pid"
  local st
  for i in $(seq 150); do
    st=$(podman inspect --format '{{.State.Running}} {{.State.Pid}}' "$PODCD")
    [ "${st% *}" = true ] && [ "${st#* }" != "$old_pid" ] && { restarted=policy; break; }
    sleep 0.2
  done
  [ -n "$restarted" ] || fail "(c) the restart policy (unless-stopped) did not restart $PODCD within 30 s"
  restarted="the restart policy, restart count $(podman inspect --format '{{.RestartCount}}' "$PODCD")"
  log "(c) restarted by $restarted"
  wait_health 60
  wait_in_sync 120 web1 web2 slow
  wait_served "$PORT_SLOW" "slow 2" 20
  local record
  record=$(api GET "/deployments/$id")
  [[ "$(echo "$record" | json "j['state']")" == failed && "$(echo "$record" | json "j['reason']")" == interrupted ]] ||
    fail "(c) deployment $id is not failed/interrupted: $record"
  [ "$(podman ps -a --filter label=io.podcd.stack=slow --format '{{.Names}}')" = slow_app_1 ] ||
    fail "(c) slow has leftover containers: $(podman ps -a --filter label=io.podcd.stack=slow --format '{{.Names}}' | tr '\n' ' ')"
  [ "$(served "$PORT_WEB1")" = "web1 v2" ] || fail "(c) web1 no longer serves \"web1 v2\""
}

# (d) podcd's own stack changes: podcd hands over to an updater container that replaces it.
# E2E_SELF_UPDATE=0 leaves it out.
scenario_self_update() {
  local old new i answer
  old=$(podman inspect --format '{{.Id}}' "$PODCD")
  # A change of podcd's own service: one more environment variable.
  sed -i 's/^      PODCD_LOG_FORMAT: .*/&\n      E2E_GENERATION: "2"/' "$DEV/services/podcd/compose.yml"
  grep -q E2E_GENERATION "$DEV/services/podcd/compose.yml" || fail "(d) could not edit services/podcd/compose.yml"
  push "podcd: E2E_GENERATION=2"
  answer=$(webhook)
  [ "$(status)" = 202 ] || [ "$(status)" = 200 ] || fail "(d) webhook: HTTP $(status): $answer"
  local id
  id=$(echo "$answer" | json "j['deployment']")
  for i in $(seq 240); do
    new=$(podman inspect --format '{{.Id}}' "$PODCD" 2>/dev/null || true)
    [ -n "$new" ] && [ "$new" != "$old" ] &&
      [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_PODCD/health")" = 200 ] && break
    sleep 0.5
  done
  [[ -n "$new" && "$new" != "$old" ]] || fail "(d) $PODCD was not replaced within 120 s"
  wait_health 30
  [[ $'\n'$(podman inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$PODCD")$'\n' == *$'\nE2E_GENERATION=2\n'* ]] ||
    fail "(d) the new $PODCD lacks E2E_GENERATION=2"
  wait_in_sync 60 web1 web2 slow podcd
  # The old podcd handed its record over; the new one closed it from the updater's result.
  local record
  for i in $(seq 60); do
    record=$(api GET "/deployments/$id")
    [ "$(echo "$record" | json "j['state']")" = succeeded ] && break
    sleep 0.5
  done
  [ "$(echo "$record" | json "j['state']")" = succeeded ] || fail "(d) deployment $id: $record"
  # (Not `| grep -q`: with pipefail, grep leaving early fails the writer.)
  [[ $(echo "$record" | json "'\\n'.join(j['log'])") == *"self-update done"* ]] ||
    fail "(d) deployment $id does not say the self-update was done: $record"
  [ -z "$(podman ps -a --filter label=io.podcd.updater --format '{{.Names}}')" ] ||
    fail "(d) the updater container was left behind"
  local health
  health=$(curl -s -m 2 "http://127.0.0.1:$PORT_PODCD/health")
  [[ $health == *'"version":"'* ]] || fail "(d) /health of the new podcd names no version: $health"
  log "(d) $PODCD replaced: ${old:0:12} -> ${new:0:12}; deployment $id succeeded; /health: $health"
}

# (e) a commit that breaks podcd's own stack: the new podcd never turns healthy, the updater
# rolls back to the old container, and the deployment is failed, not left running.
scenario_self_update_rollback() {
  local old new i answer id record
  old=$(podman inspect --format '{{.Id}}' "$PODCD")
  # A configuration podcd refuses at start (poll interval below its 10 s minimum).
  change_self e 's/^      E2E_GENERATION: .*/&\n      PODCD_POLL_INTERVAL: "1s"/' 'PODCD_POLL_INTERVAL: "1s"' \
    "podcd: a configuration it refuses"
  wait_failed e "$id"
  [[ $(echo "$record" | json "'\\n'.join(j['log'])") == *"rolled back to the old container"* ]] ||
    fail "(e) deployment $id does not say it rolled back: $record"
  new=$(podman inspect --format '{{.Id}}' "$PODCD")
  [ "$new" = "$old" ] || fail "(e) $PODCD is not the old container after the rollback (${old:0:12} -> ${new:0:12})"
  wait_health 30
  # Not retried at the same commit: a further push of nothing leaves podcd alone.
  answer=$(webhook "?wait=60")
  [ "$(status)" = 200 ] || fail "(e) webhook after the rollback: HTTP $(status): $answer"
  [ "$(podman inspect --format '{{.Id}}' "$PODCD")" = "$old" ] || fail "(e) podcd was replaced again at the same commit"
  [[ $answer == *backoff* ]] || fail "(e) the self stack is not backing off: $answer"
  # Reverting the commit brings the repo back to what runs: nothing to do.
  revert_self e '/PODCD_POLL_INTERVAL: "1s"/d' "podcd: revert" "$old"
  log "(e) rolled back to ${old:0:12}; deployment $id failed; no retry at the same commit"
}

# (f) the updater crashes (kill -9 of its processes, as the OOM killer would) at some point
# after it stopped the old podcd: one round per delay in E2E_UPDATER_KILL_DELAYS (seconds after
# the old podcd stopped; default "0 0.2 0.4"). Podman starts it again (restart policy
# on-failure), or, when Podman does not, the waiting new podcd does; the resumed updater puts
# the old podcd back. Whatever the moment, the host ends with exactly one healthy podcd and a
# closed record: failed with the old container back, or succeeded with the new one when the
# replacement had finished.
# A last round stops the updater with `podman kill` once the new podcd runs: Podman never
# restarts a container it killed, so the waiting new podcd starts the updater itself.
scenario_updater_crash() {
  local delay gen=3
  for delay in ${E2E_UPDATER_KILL_DELAYS:-0 0.2 0.4} podman-kill; do
    updater_crash_round "$delay" "$gen"
    gen=$((gen + 1))
  done
}

updater_crash_round() {  # DELAY|podman-kill GENERATION
  local delay=$1 gen=$2 old prev i id record pid state now_id updater=podcd_podcd-updater
  old=$(podman inspect --format '{{.Id}}' "$PODCD")
  prev=$(sed -n 's/^      E2E_GENERATION: "\(.*\)"$/\1/p' "$DEV/services/podcd/compose.yml")
  change_self f "s/^      E2E_GENERATION: .*/      E2E_GENERATION: \"$gen\"/" "E2E_GENERATION: \"$gen\"" \
    "podcd: E2E_GENERATION=$gen"
  for i in $(seq 600); do
    [ "$(podman inspect --format '{{.State.Running}}' "$old" 2>/dev/null)" = false ] && break
    sleep 0.1
  done
  [ "$(podman inspect --format '{{.State.Running}}' "$old")" = false ] || fail "(f) the updater never stopped the old podcd"
  if [ "$delay" = podman-kill ]; then
    for i in $(seq 300); do
      [ "$(podman inspect --format '{{.State.Running}}' "${PODCD}_podcd-next" 2>/dev/null)" = true ] && break
      sleep 0.02
    done
    if podman kill "$updater" >/dev/null 2>&1; then
      log "(f) podman kill of the updater once the new podcd ran: Podman does not restart it"
    else
      log "(f) the updater had ended before the new podcd was seen running: nothing to kill"
    fi
  else
    sleep "$delay"
    pid=$(podman inspect --format '{{.State.Pid}}' "$updater" 2>/dev/null || echo 0)
    if [ -n "$pid" ] && [ "$pid" != 0 ]; then
      kill -9 "$pid"
      log "(f) killed the updater (pid $pid) ${delay} s after it stopped the old podcd"
    else
      log "(f) the updater had ended within ${delay} s after it stopped the old podcd: nothing to kill"
    fi
  fi
  wait_finished f "$id"
  state=$(echo "$record" | json "j['state']")
  wait_health 30
  now_id=$(podman inspect --format '{{.Id}}' "$PODCD")
  if [ "$state" = failed ]; then
    [[ $(echo "$record" | json "'\\n'.join(j['log'])") == *"the updater was interrupted and restarted"* ]] ||
      fail "(f) deployment $id failed without saying the updater was interrupted: $record"
    [ "$now_id" = "$old" ] || fail "(f) $PODCD is not the old container after the failed update"
  else
    [ "$now_id" != "$old" ] || fail "(f) deployment $id succeeded but $PODCD is the old container"
    [[ $'\n'$(podman inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$PODCD")$'\n' == *$'\n'"E2E_GENERATION=$gen"$'\n'* ]] ||
      fail "(f) deployment $id succeeded but the running $PODCD lacks E2E_GENERATION=$gen"
  fi
  [ "$(podman ps -a --filter label=io.podcd.stack=podcd --format '{{.Names}}')" = "$PODCD" ] ||
    fail "(f) leftover podcd containers: $(podman ps -a --filter label=io.podcd.stack=podcd --format '{{.Names}}' | tr '\n' ' ')"
  for i in $(seq 40); do
    [ -z "$(podman ps -a --filter label=io.podcd.updater --format '{{.Names}}')" ] && break
    sleep 0.5
  done
  [ -z "$(podman ps -a --filter label=io.podcd.updater --format '{{.Names}}')" ] || fail "(f) the updater was left behind"
  if [ "$state" = failed ]; then
    revert_self f "s/^      E2E_GENERATION: .*/      E2E_GENERATION: \"$prev\"/" "podcd: revert to E2E_GENERATION=$prev" "$old"
  else
    wait_in_sync 60 podcd
  fi
  local resumed
  resumed=$(echo "$record" | json "[l for l in j['log'] if 'started again (run' in l][-1:]" 2>/dev/null || true)
  log "(f) round $delay: deployment $id $state; $PODCD ${old:0:12} -> ${now_id:0:12}; resumed: ${resumed:-no}"
}

# ---------------------------------------------------------------------------------------------
# Figures (E2E_BENCH=1): webhook-to-converged latency over 10 one-stack pushes, RSS, image size.

bench() {
  local n=${E2E_BENCH_PUSHES:-10} i pid idle_rss t0 answer id record fin served_at
  pid=$(podcd_pid)
  idle_rss=$(rss_kb "$pid" VmRSS)
  log "bench: podcd idle RSS ${idle_rss} kB (VmHWM so far $(rss_kb "$pid" VmHWM) kB), pid $pid"
  : >"$WORK/latency.txt"
  for i in $(seq "$n"); do
    write_stack_web1 "web1 bench $i"
    push "web1: bench $i"
    signed_push
    t0=$(date +%s%3N)
    answer=$(send_push)
    [ "$(status)" = 202 ] || fail "bench: webhook $i: HTTP $(status): $answer"
    id=$(echo "$answer" | json "j['deployment']")
    served_at=""
    fin=""
    for _ in $(seq 1200); do
      # A short connect timeout: a SYN sent while the port has no container behind it is not
      # answered, and its 1 s retransmission would be measured instead of podcd.
      [ -z "$served_at" ] &&
        [ "$(curl -s --connect-timeout 0.2 -m 1 "http://127.0.0.1:$PORT_WEB1/" 2>/dev/null)" = "web1 bench $i" ] &&
        served_at=$(date +%s%3N)
      if [ -z "$fin" ]; then
        record=$(api GET "/deployments/$id")
        case "$(echo "$record" | json "j['state']")" in
          succeeded) fin=$(echo "$record" | json "j['finished_at_ms']") ;;
          failed | superseded) fail "bench: deployment $id: $record" ;;
        esac
      fi
      [ -n "$served_at" ] && [ -n "$fin" ] && break
      sleep 0.02
    done
    [[ -n "$served_at" && -n "$fin" ]] || fail "bench: push $i did not converge within the time limit"
    echo "$((fin - t0)) $((served_at - t0))" >>"$WORK/latency.txt"
    log "bench: push $i: finished +$((fin - t0)) ms, new content served +$((served_at - t0)) ms"
  done
  python3 - "$WORK/latency.txt" <<'EOF'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
for k, name in ((0, "webhook -> record finished"), (1, "webhook -> new content served")):
    v = [r[k] for r in rows]
    print(f"e2e: bench: {name}: median {statistics.median(v):.0f} ms, min {min(v)} ms, max {max(v)} ms (n={len(v)})")
EOF
  log "bench: podcd RSS after $n deployments: VmRSS $(rss_kb "$pid" VmRSS) kB, peak VmHWM $(rss_kb "$pid" VmHWM) kB"
  log "bench: image $IMAGE $IMAGE_SIZE bytes"
}

# ---------------------------------------------------------------------------------------------

trap cleanup EXIT
if [ -f "$WORK/env/env.sh" ] || [ -d "$WORK" ]; then
  log "removing a previous run's $WORK"
  bash "$ROOT/scripts/testenv.sh" stop "$WORK/env" >/dev/null 2>&1 || true
  rm -rf "$WORK"
fi
mkdir -p "$WORK"

step "start the Podman service (scripts/testenv.sh)" start_env
step "Debian base image" base_image
step "build podcd's image from the Containerfile" build_image
step "environment repository (bare, file://)" make_repo
step "check podman-compose.yml (podman-compose --dry-run, podcd check-config)" check_compose
step "start podcd with podman-compose.yml; start-up reconcile" start_podcd
if [ "${E2E_SCENARIOS:-1}" = 1 ]; then
  step "(a) push one stack's change, signed webhook" scenario_one_stack
  step "(b) push a broken commit (bad image tag)" scenario_broken
  step "(c) kill -9 podcd during a deployment" scenario_kill
fi
if [ "${E2E_SELF_UPDATE:-1}" = 1 ]; then
  step "(d) podcd replaces itself" scenario_self_update
  step "(e) a broken podcd commit rolls back" scenario_self_update_rollback
  step "(f) the updater crashes after stopping podcd" scenario_updater_crash
else
  log "(d) self-update: skipped (E2E_SELF_UPDATE=0)"
fi
if [ "${E2E_BENCH:-0}" = 1 ]; then
  step "bench: webhook-to-converged latency, RSS" bench
fi
log "passed ($(elapsed "$T0") s)"
