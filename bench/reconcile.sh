#!/usr/bin/env bash
# Reconcile vs docker-compose 1.29.2 and podman-compose 1.0.3 on the same Podman service
# (scripts/testenv.sh, or the one PODCD_TEST_PODMAN_SOCKET names), on generated stacks of
# busybox services on one network. For each tool and size: median of RUNS runs of a cold up
# (fresh stack), a no-change up/reconcile, and a one-service change (one service's
# environment changes). The floor is the raw libpod calls the same work needs, made with
# curl one after another. Prints a Markdown table.
#   bench/reconcile.sh [SIZES="10 30"] [RUNS=5]
#   TOOLS="raw podcd5 dc" bench/reconcile.sh   # a subset (default: raw podcd5 podcd1 podcd0 dc pc)
set -euo pipefail
SIZES=${1:-"10 30"}
RUNS=${2:-5}
# shellcheck source=bench/podman_env.sh
. "$(dirname "$0")/podman_env.sh" reconcile


# compose FILE N V: N services s01..sNN, one network; service s01 gets environment V.
compose() {
  local file=$1 n=$2 v=$3 i
  {
    echo "services:"
    for i in $(seq -f '%02g' 1 "$n"); do
      cat <<EOF
  s$i:
    image: $IMAGE
    command: ["sleep", "3600"]
    init: true
    environment:
      V: "$([ "$i" = 01 ] && echo "$v" || echo 1)"
    networks: [net]
EOF
    done
    echo "networks:"
    echo "  net: {}"
  } >"$file"
}

# Removes every container and network of project P (podcd's and compose's labels).
wipe() {
  local p=$1 ids
  for label in "io.podcd.stack=$p" "com.docker.compose.project=$p" "io.podman.compose.project=$p"; do
    ids=$(podman ps -aq --filter "label=$label")
    [ -z "$ids" ] || podman rm -f -t 0 $ids >/dev/null 2>&1 || true
  done
  podman network rm -f "${p}_net" "${p}_default" >/dev/null 2>&1 || true
}

api() {  # api METHOD PATH [BODY]: one libpod call, fails on an HTTP error
  curl -sf --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} \
    "http://d/v4.0.0/libpod$2"
}

# --- podcd -----------------------------------------------------------------------------------
# A git remote with one stack; a config per settle time.
podcd_setup() {  # podcd_setup N SETTLE: sets CFG, DEV, STACK
  local n=$1 settle=$2
  local d="$WORK/podcd-$n-$settle"
  rm -rf "$d" && mkdir -p "$d/state"
  STACK="bp${n}s${settle%s}"
  git init -q --bare -b main "$d/remote.git"
  git init -q -b main "$d/dev"
  mkdir -p "$d/dev/services/$STACK"
  compose "$d/dev/services/$STACK/compose.yml" "$n" 1
  git -C "$d/dev" add -A
  git -C "$d/dev" -c user.name=b -c user.email=b@b commit -qm v1
  git -C "$d/dev" push -q "$d/remote.git" main
  DEV=$d/dev
  CFG=$d/podcd.yml
  cat >"$CFG" <<EOF
listen: 127.0.0.1:0
webhook:
  secret: a-bench-secret-of-some-length
repo:
  url: file://$d/remote.git
  branch: main
podman:
  socket: $SOCK
state_dir: $d/state
health:
  settle: $settle
log:
  level: warn
EOF
}

podcd_change() {  # podcd_change N V: commit and push s01's environment V
  compose "$DEV/services/$STACK/compose.yml" "$1" "$2"
  git -C "$DEV" -c user.name=b -c user.email=b@b commit -qam "v$2"
  git -C "$DEV" push -q "$DEV/../remote.git" main
}

bench_podcd() {  # bench_podcd N SETTLE: prints "cold nochange change" medians
  local n=$1 settle=$2 cold=() same=() change=() t v=1
  podcd_setup "$n" "$settle"
  for r in $(seq "$RUNS"); do
    wipe "$STACK"
    t=$(now_ms); quiet "$PODCD" deploy --config "$CFG"; cold+=($(($(now_ms) - t)))
    t=$(now_ms); quiet "$PODCD" deploy --config "$CFG"; same+=($(($(now_ms) - t)))
    v=$((v + 1)); podcd_change "$n" "$v"
    t=$(now_ms); quiet "$PODCD" deploy --config "$CFG"; change+=($(($(now_ms) - t)))
  done
  wipe "$STACK"
  echo "$(printf '%s\n' "${cold[@]}" | median) $(printf '%s\n' "${same[@]}" | median) $(printf '%s\n' "${change[@]}" | median)"
}

# --- docker-compose and podman-compose ------------------------------------------------------
bench_compose() {  # bench_compose TOOL N
  local tool=$1 n=$2 cold=() same=() change=() t v=1
  local p="bc${tool%%-*}$n" f="$WORK/$tool-$n.yml"
  local run
  case "$tool" in
    docker-compose) run=(env DOCKER_HOST="unix://$SOCK" COMPOSE_INTERACTIVE_NO_CLI=1 docker-compose -p "$p" -f "$f") ;;
    podman-compose) run=(podman-compose -p "$p" -f "$f") ;;
  esac
  for r in $(seq "$RUNS"); do
    wipe "$p"
    compose "$f" "$n" 1
    t=$(now_ms); quiet "${run[@]}" up -d; cold+=($(($(now_ms) - t)))
    t=$(now_ms); quiet "${run[@]}" up -d; same+=($(($(now_ms) - t)))
    v=$((v + 1)); compose "$f" "$n" "$v"
    # podman-compose 1.0.3 does not notice a changed service (its config hash is a constant
    # "123"): `up -d` only starts the existing containers. --force-recreate is how its users
    # apply a change; it recreates every service.
    if [ "$tool" = podman-compose ]; then
      t=$(now_ms); quiet "${run[@]}" up -d --force-recreate; change+=($(($(now_ms) - t)))
    else
      t=$(now_ms); quiet "${run[@]}" up -d; change+=($(($(now_ms) - t)))
    fi
  done
  wipe "$p"
  echo "$(printf '%s\n' "${cold[@]}" | median) $(printf '%s\n' "${same[@]}" | median) $(printf '%s\n' "${change[@]}" | median)"
}

# --- the floor: raw libpod calls, sequential --------------------------------------------------
spec() {  # spec NAME NET V
  printf '{"name":"%s","image":"%s","command":["sleep","3600"],"init":true,"env":{"V":"%s"},"Networks":{"%s":{}}}' \
    "$1" "$IMAGE" "$3" "$2"
}
bench_raw() {  # bench_raw N: cold = network + create+start per service; change = the calls
  # podcd's replace of one service makes, without waits: create (on the network without the
  # service's aliases), start, give it the aliases once gated (inspect for its address, then
  # disconnect and connect again with the aliases on the same address: libpod 4.3 has no call
  # that adds aliases), disconnect the old container from the network (what makes the replace
  # gap-free, docs/replacement.md), stop, remove, rename.
  local n=$1 cold=() change=() t i id new info ip mac p="braw$n"
  for r in $(seq "$RUNS"); do
    wipe "$p"
    t=$(now_ms)
    api POST /networks/create "{\"name\":\"${p}_net\",\"dns_enabled\":true}" >/dev/null
    for i in $(seq -f '%02g' 1 "$n"); do
      id=$(api POST /containers/create "$(spec "${p}_s${i}_1" "${p}_net" 1)" | sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
      api POST "/containers/$id/start" >/dev/null
    done
    cold+=($(($(now_ms) - t)))
    i=01
    t=$(now_ms)
    new=$(api POST /containers/create "$(spec "${p}_s${i}_1_podcd-next" "${p}_net" 2)" | sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
    api POST "/containers/$new/start" >/dev/null
    info=$(api GET "/containers/$new/json")  # one network: its address is the only non-empty one
    ip=$(grep -o '"IPAddress":"[0-9.]\+"' <<<"$info" | head -1 | cut -d'"' -f4)
    mac=$(grep -o '"MacAddress":"[0-9a-f:]\+"' <<<"$info" | head -1 | cut -d'"' -f4)
    api POST "/networks/${p}_net/disconnect" "{\"Container\":\"$new\"}" >/dev/null
    api POST "/networks/${p}_net/connect" \
      "{\"container\":\"$new\",\"aliases\":[\"s$i\"],\"static_ips\":[\"$ip\"],\"static_mac\":\"$mac\"}" >/dev/null
    api POST "/networks/${p}_net/disconnect" "{\"Container\":\"${p}_s${i}_1\"}" >/dev/null
    api POST "/containers/${p}_s${i}_1/stop?timeout=10" >/dev/null
    api DELETE "/containers/${p}_s${i}_1?force=true" >/dev/null
    api POST "/containers/$new/rename?name=${p}_s${i}_1" >/dev/null
    change+=($(($(now_ms) - t)))
  done
  wipe "$p"
  echo "$(printf '%s\n' "${cold[@]}" | median) - $(printf '%s\n' "${change[@]}" | median)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || a == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo "podcd $("$PODCD" --version 2>/dev/null || echo '?'), $(docker-compose version --short 2>/dev/null || echo '?') (docker-compose), podman-compose $(podman-compose version 2>/dev/null | awk '/podman-compose.* version/ { print $NF }'), podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?'); $RUNS runs each, medians in ms" >&2
for n in $SIZES; do
  declare -A res=([raw]="- - -" [podcd5]="- - -" [podcd1]="- - -" [podcd0]="- - -" [dc]="- - -" [pc]="- - -")
  want() { [[ " ${TOOLS:-raw podcd5 podcd1 podcd0 dc pc} " == *" $1 "* ]]; }
  if want raw; then res[raw]=$(bench_raw "$n"); fi
  if want podcd5; then res[podcd5]=$(bench_podcd "$n" 5s); fi
  if want podcd1; then res[podcd1]=$(bench_podcd "$n" 1s); fi
  if want podcd0; then res[podcd0]=$(bench_podcd "$n" 0s); fi
  if want dc; then res[dc]=$(bench_compose docker-compose "$n"); fi
  if want pc; then res[pc]=$(bench_compose podman-compose "$n"); fi
  read -r dc_cold dc_same dc_change <<<"${res[dc]}"
  read -r raw_cold _ raw_change <<<"${res[raw]}"
  echo
  echo "### $n services"
  echo
  echo "| tool | cold up | no-change | one-service change | cold vs docker-compose | change vs raw calls |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for k in podcd5 podcd1 podcd0 dc pc raw; do
    want "$k" || continue
    read -r cold same change <<<"${res[$k]}"
    case $k in
      podcd5) name="podcd (settle 5s, default)" ;;
      podcd1) name="podcd (settle 1s)" ;;
      podcd0) name="podcd (settle 0s: no stability wait)" ;;
      dc) name="docker-compose 1.29.2" ;;
      pc) name="podman-compose 1.0.3" ;;
      raw) name="raw libpod calls (curl, sequential)" ;;
    esac
    echo "| $name | $cold | $same | $change | $(ratio "$cold" "$dc_cold") | $(ratio "$change" "$raw_change") |"
  done
  unset res
done
