#!/usr/bin/env bash
# Starts (and stops) the real services the integration tests run against, isolated in DIR:
# a rootful Podman API service with its own containers.conf, image/container store and
# network config, a docker-registry on a free loopback port, and a tiny busybox image
# (localhost/bb:1, also pushed to the registry as <registry>/bb:1).
#
#   scripts/testenv.sh start DIR   # starts everything, writes DIR/env.sh
#   scripts/testenv.sh env DIR     # prints DIR/env.sh (eval "$(scripts/testenv.sh env DIR)")
#   scripts/testenv.sh driver DIR  # prints the storage driver start would pick for DIR
#   scripts/testenv.sh stop DIR    # removes the env's containers, kills the PIDs it started,
#                                  # unmounts and removes DIR
#
# Nothing under /etc is touched: Podman reads CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
# CONTAINERS_REGISTRIES_CONF (see docs/testing.md and ../shared/PODMAN.md for why each
# setting is there). Needs root and the packages listed in scripts/setup.sh.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|env|driver DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
if [ "$cmd" = start ] || [ "$cmd" = driver ]; then
  mkdir -p "$2" || exit 1
elif [ ! -d "$2" ]; then
  [ "$cmd" = stop ] && exit 0
  echo "testenv: no env in $2" >&2
  exit 1
fi
DIR=$(cd "$2" && pwd -P)

log() { echo "testenv: $*" >&2; }

# Kills a PID only when it still is the process this env started (its command line names DIR),
# so a stale env.sh never makes us kill a recycled PID.
kill_ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# True while PID runs; a zombie (exited, not yet reaped by an init that may never reap it)
# counts as gone.
alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Runs a command with this env's Podman configuration. `env` execs the command, so a
# backgrounded `podman_env ... &` has the PID of the command itself.
podman_env() {
  env CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf" "$@"
}

do_stop() {
  [ -f "$DIR/env.sh" ] || [ -f "$DIR/containers.conf" ] || { rm -rf "$DIR"; return 0; }
  local service_pid="" registry_pid="" auth_registry_pid="" short_tmp=""
  if [ -f "$DIR/env.sh" ]; then
    # shellcheck disable=SC1091,SC1090
    service_pid=$(. "$DIR/env.sh" && echo "${PODCD_TESTENV_PODMAN_PID:-}")
    registry_pid=$(. "$DIR/env.sh" && echo "${PODCD_TESTENV_REGISTRY_PID:-}")
    auth_registry_pid=$(. "$DIR/env.sh" && echo "${PODCD_TESTENV_AUTH_REGISTRY_PID:-}")
    short_tmp=$(. "$DIR/env.sh" && echo "${PODCD_TESTENV_TMP:-}")
  fi
  # Containers outlive the API service (conmon is detached): remove the ones in this env's
  # own store first, so their network namespaces, firewall rules and mounts go too.
  if [ -f "$DIR/containers.conf" ] && [ -f "$DIR/storage.conf" ]; then
    podman_env podman rm --all --force --time 0 >/dev/null 2>&1 || true
    podman_env podman network prune --force >/dev/null 2>&1 || true
  fi
  kill_ours "$service_pid"
  kill_ours "$registry_pid"
  kill_ours "$auth_registry_pid"
  # containers/storage leaves its overlay home and layer mounts behind: unmount every mount
  # under DIR (deepest first) before deleting, or rm would fail on busy mounts.
  # Only a directory this script made (mktemp in do_start) is removed besides DIR.
  case "$short_tmp" in /tmp/podcd-te.??????) ;; *) short_tmp="" ;; esac
  local mounts d
  for d in "$DIR" $short_tmp; do
    mounts=$(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    if [ -n "$mounts" ]; then
      while read -r m; do umount -l "$m" 2>/dev/null || true; done <<<"$mounts"
    fi
  done
  rm -rf "$DIR" $short_tmp
}

# Prints a random port in 20000..59999 that nothing listens on now.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

wait_for() {  # wait_for SECONDS PID CMD...: until CMD succeeds, the PID dies, or time is up
  local secs=$1 pid=$2
  shift 2
  local tries=$((secs * 10))
  for _ in $(seq "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# A password-protected registry for credential tests. The bcrypt hash is of the test-only
# password below (docker-registry accepts only bcrypt; no tool on a fresh Debian makes one).
AUTH_USER=podcd
AUTH_PASSWORD=podcd-test-password
# shellcheck disable=SC2016  # a literal bcrypt hash
AUTH_HTPASSWD='podcd:$2b$05$ev4FY96fIseuvR1KFMe2V.IryB1DgPBkPGdXwWAypUmeT4Knnnjna'

# start_registry NAME [auth]: a docker-registry on a free loopback port with filesystem
# storage under DIR/NAME; sets STARTED_PORT and STARTED_PID.
start_registry() {
  local name=$1 auth=${2:-} port pid auth_conf=""
  local rdir="$DIR/$name"
  mkdir -p "$rdir/data"
  if [ "$auth" = auth ]; then
    echo "$AUTH_HTPASSWD" >"$rdir/htpasswd"
    auth_conf="auth:
  htpasswd:
    realm: podcd-test
    path: $rdir/htpasswd"
  fi
  for _ in $(seq 10); do
    port=$(free_port) || break
    cat >"$rdir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $rdir/data
  delete:
    enabled: true
$auth_conf
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$rdir/config.yml" >>"$rdir/registry.log" 2>&1 &
    pid=$!
    # The protected registry answers /v2/ with 401: any HTTP answer means it is up.
    if wait_for 10 "$pid" curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then
      STARTED_PORT=$port
      STARTED_PID=$pid
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  log "docker-registry did not start (see $rdir/registry.log)"
  return 1
}

# Podman's overlay driver cannot stack its layers on an overlayfs (a CI runner that is itself a
# container) nor on some other file systems: there it takes vfs (a full copy per layer: slower,
# bigger, but it works anywhere). Elsewhere overlay, when a trial overlay mount under DIR works
# (or cannot be tried: not root). PODCD_TESTENV_STORAGE_DRIVER overrides the choice.
storage_driver() {
  local dir=$1 fs probe ok=1
  if [ -n "${PODCD_TESTENV_STORAGE_DRIVER:-}" ]; then
    echo "$PODCD_TESTENV_STORAGE_DRIVER"
    return 0
  fi
  fs=$(stat -f -c %T "$dir" 2>/dev/null || echo unknown)
  if [ "$fs" = overlayfs ]; then
    echo vfs
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    probe=$(mktemp -d "$dir/.overlay-probe.XXXXXX")
    mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
    if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
      "$probe/merged" 2>/dev/null; then
      umount "$probe/merged" 2>/dev/null || umount -l "$probe/merged" 2>/dev/null || true
    else
      ok=0
    fi
    rm -rf "$probe"
  fi
  if [ "$ok" = 1 ]; then echo overlay; else echo vfs; fi
}

write_configs() {
  # A subnet range of its own per env: each env has its own IPAM and network list, so two
  # envs on one host must not hand out the same addresses.
  local octet=$((100 + RANDOM % 150))
  mkdir -p "$DIR/storage/graphroot" "$DIR/networks"
  cat >"$DIR/containers.conf" <<EOF
# Written by scripts/testenv.sh: an isolated rootful Podman for podcd's integration tests.
[containers]
# The hard nofile limit on these machines is 20000; Podman's default (1048576) fails.
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
# crun fails on cgroups v1 hybrid mode ("cgroups in hybrid mode not supported").
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$SHORT_TMP/tmp"
static_dir = "$DIR/storage/graphroot/libpod"
volume_path = "$DIR/storage/graphroot/volumes"

# A runtime only this env's Podman knows (runc under another name): the tests of
# policy.allowed_runtimes' default (the runtimes the host's Podman knows) deploy with it.
[engine.runtimes]
podcd-test-runc = ["$(command -v runc)"]

[network]
network_backend = "netavark"
network_config_dir = "$DIR/networks"
default_subnet = "10.$octet.255.0/24"
default_subnet_pools = [{"base" = "10.$octet.0.0/16", "size" = 24}]
EOF
  STORAGE_DRIVER=$(storage_driver "$DIR/storage")
  log "storage driver $STORAGE_DRIVER ($DIR is on $(stat -f -c %T "$DIR/storage" 2>/dev/null || echo an unknown file system))"
  cat >"$DIR/storage.conf" <<EOF
[storage]
driver = "$STORAGE_DRIVER"
graphroot = "$DIR/storage/graphroot"
runroot = "$SHORT_TMP/runroot"
EOF
  cat >"$DIR/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "permissive"

[[registry]]
location = "127.0.0.1:$REGISTRY_PORT"
insecure = true

[[registry]]
location = "127.0.0.1:$AUTH_REGISTRY_PORT"
insecure = true
EOF
}

build_image() {
  local rootfs="$DIR/rootfs"
  local bb
  bb=$(command -v busybox) || { log "busybox-static is not installed"; return 1; }
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/www" "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  cp "$bb" "$rootfs/bin/busybox"
  local applet
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  echo 'hello from bb' >"$rootfs/www/index.html"
  tar -C "$rootfs" -c . | podman_env podman import --quiet \
    --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - localhost/bb:1 >/dev/null
  rm -rf "$rootfs"
  podman_env podman push --tls-verify=false --quiet localhost/bb:1 \
    "127.0.0.1:$REGISTRY_PORT/bb:1" >/dev/null
  podman_env podman push --tls-verify=false --quiet --creds "$AUTH_USER:$AUTH_PASSWORD" \
    localhost/bb:1 "127.0.0.1:$AUTH_REGISTRY_PORT/bb:1" >/dev/null
}

do_start() {
  if [ -f "$DIR/env.sh" ] || [ -f "$DIR/containers.conf" ]; then
    log "stopping a previous env in $DIR"
    do_stop
    mkdir -p "$DIR"
  fi
  for tool in podman runc conmon docker-registry curl ss busybox; do
    command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/setup.sh"; exit 1; }
  done
  [ "$(id -u)" -eq 0 ] || { log "needs root (rootful Podman)"; exit 1; }
  # Without it containers lose their gateway (and aardvark-dns) for seconds whenever a
  # neighbour leaves a network, and the zero-downtime test fails (docs/operations.md).
  if [ "$(cat /proc/sys/net/ipv4/conf/all/arp_notify)" != 1 ]; then
    log "net.ipv4.conf.all.arp_notify is not 1: run scripts/setup.sh (docs/operations.md)"
    exit 1
  fi
  # A unix socket path holds at most 107 bytes.
  if [ "${#DIR}" -gt 90 ]; then
    log "$DIR is too long for a unix socket path under it (at most 90 characters)"
    exit 1
  fi

  REGISTRY_PORT="" REGISTRY_PID="" AUTH_REGISTRY_PORT="" AUTH_REGISTRY_PID="" STORAGE_DRIVER=""
  # The store's runroot and Podman's tmp_dir live in a short directory of their own, linked
  # as DIR/run: conmon's exit command (`podman container cleanup`) refuses a runroot longer
  # than 50 characters, and then every `wait` of a container that ended takes Podman's 20 s
  # conmon timeout (CI's build-asan/testenv/storage/runroot was 51 characters).
  SHORT_TMP=$(mktemp -d /tmp/podcd-te.XXXXXX)
  mkdir -p "$SHORT_TMP/runroot" "$SHORT_TMP/tmp"
  ln -sfn "$SHORT_TMP" "$DIR/run"
  # env.sh is rewritten after each start, so that a failing start still stops all it started.
  start_registry registry
  REGISTRY_PORT=$STARTED_PORT REGISTRY_PID=$STARTED_PID
  write_env "" ""
  start_registry auth-registry auth
  AUTH_REGISTRY_PORT=$STARTED_PORT AUTH_REGISTRY_PID=$STARTED_PID
  write_env "" ""
  write_configs

  local sock="$DIR/podman.sock"
  env CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf" \
    podman system service --time=0 "unix://$sock" >>"$DIR/podman.log" 2>&1 &
  local service_pid=$!
  # Written at once, so that stop can clean up even when the rest of start fails.
  write_env "$sock" "$service_pid"
  if ! wait_for 20 "$service_pid" curl -sf --unix-socket "$sock" http://d/v4.0.0/libpod/_ping; then
    log "podman system service did not start (see $DIR/podman.log)"
    exit 1
  fi
  build_image
  log "ready: storage driver $STORAGE_DRIVER, socket $sock, registries 127.0.0.1:$REGISTRY_PORT and 127.0.0.1:$AUTH_REGISTRY_PORT (auth), image localhost/bb:1"
}

write_env() {
  local sock=$1 service_pid=$2
  cat >"$DIR/env.sh" <<EOF
# Written by scripts/testenv.sh start; source it to reach this test environment.
export PODCD_TESTENV_DIR='$DIR'
export PODCD_TEST_PODMAN_SOCKET='$sock'
export PODCD_TEST_REGISTRY='127.0.0.1:$REGISTRY_PORT'
export PODCD_TEST_IMAGE='localhost/bb:1'
export PODCD_TEST_REGISTRY_IMAGE='127.0.0.1:$REGISTRY_PORT/bb:1'
# A registry that wants credentials (htpasswd, test-only password); it holds bb:1 too.
export PODCD_TEST_AUTH_REGISTRY='127.0.0.1:$AUTH_REGISTRY_PORT'
export PODCD_TEST_AUTH_USER='$AUTH_USER'
export PODCD_TEST_AUTH_PASSWORD='$AUTH_PASSWORD'
export CONTAINERS_CONF='$DIR/containers.conf'
export CONTAINERS_STORAGE_CONF='$DIR/storage.conf'
export CONTAINERS_REGISTRIES_CONF='$DIR/registries.conf'
export PODCD_TESTENV_PODMAN_PID='$service_pid'
export PODCD_TESTENV_REGISTRY_PID='$REGISTRY_PID'
export PODCD_TESTENV_AUTH_REGISTRY_PID='$AUTH_REGISTRY_PID'
export PODCD_TESTENV_TMP='$SHORT_TMP'
export PODCD_TESTENV_STORAGE_DRIVER_USED='${STORAGE_DRIVER:-}'
EOF
}

on_start_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "start failed (Podman's log copied to /tmp/podcd-testenv-podman.log)"
    cp "$DIR/podman.log" /tmp/podcd-testenv-podman.log 2>/dev/null || true
    do_stop
  fi
}

case "$cmd" in
  start)
    # A failed start leaves nothing running behind.
    trap on_start_exit EXIT
    do_start
    ;;
  stop) do_stop ;;
  driver)
    mkdir -p "$DIR/storage"
    storage_driver "$DIR/storage"
    ;;
  env)
    [ -f "$DIR/env.sh" ] || { log "no env in $DIR (run: $0 start $DIR)"; exit 1; }
    cat "$DIR/env.sh"
    ;;
  *) usage ;;
esac
