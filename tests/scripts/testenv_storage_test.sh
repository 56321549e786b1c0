#!/usr/bin/env bash
# scripts/testenv.sh picks a storage driver that works on its directory's file system: vfs on
# overlayfs (a CI runner that is itself a container), where Podman's overlay driver refuses to
# start, and overlay elsewhere. Starts a real env on an overlayfs and runs a container in it.
# Needs root (mount, rootful Podman); exits 77 (skipped) without, or fails under CI=true.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
TESTENV="$ROOT/scripts/testenv.sh"

missing() {
  echo "testenv_storage_test: $*" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
}
[ "$(id -u)" -eq 0 ] || missing "needs root"
command -v podman >/dev/null || missing "podman is missing"

WORK=$(mktemp -d /tmp/podcd-ovl.XXXXXX)
cleanup() {
  "$TESTENV" stop "$WORK/merged/env" >/dev/null 2>&1 || true
  umount "$WORK/merged" 2>/dev/null || umount -l "$WORK/merged" 2>/dev/null || true
  umount "$WORK/layers" 2>/dev/null || umount -l "$WORK/layers" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/layers" "$WORK/merged" "$WORK/plain"
# The overlay's layers on a tmpfs: where /tmp is itself an overlayfs (a CI runner in a
# container), an overlay cannot take its upper layer from it.
mount -t tmpfs -o size=2g tmpfs "$WORK/layers" || missing "cannot mount a tmpfs here"
mkdir -p "$WORK/layers/lower" "$WORK/layers/upper" "$WORK/layers/work"
mount -t overlay overlay -o "lowerdir=$WORK/layers/lower,upperdir=$WORK/layers/upper,workdir=$WORK/layers/work" "$WORK/merged" ||
  missing "cannot mount an overlayfs here"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$(stat -f -c %T "$WORK/merged")" = overlayfs ] || fail "the test mount is not an overlayfs"
got=$("$TESTENV" driver "$WORK/merged/env")
[ "$got" = vfs ] || fail "on overlayfs: driver $got, want vfs"
if [ "$(stat -f -c %T "$WORK/plain")" != overlayfs ]; then
  got=$("$TESTENV" driver "$WORK/plain/env")
  [ "$got" = overlay ] || fail "on $(stat -f -c %T "$WORK/plain"): driver $got, want overlay"
fi
got=$(PODCD_TESTENV_STORAGE_DRIVER=overlay "$TESTENV" driver "$WORK/merged/env")
[ "$got" = overlay ] || fail "PODCD_TESTENV_STORAGE_DRIVER=overlay: driver $got"

# The real thing: an env on the overlayfs starts, says which driver, and runs a container.
start_log=$("$TESTENV" start "$WORK/merged/env" 2>&1) || fail "start on overlayfs failed: $start_log"
echo "$start_log" | grep -q "storage driver vfs" || fail "start did not say its driver: $start_log"
# shellcheck disable=SC1091
out=$(. "$WORK/merged/env/env.sh" && podman run --rm localhost/bb:1 echo hello-from-vfs 2>&1) ||
  fail "podman run on the vfs env: $out"
[ "$out" = hello-from-vfs ] || fail "podman run said: $out"
driver=$(. "$WORK/merged/env/env.sh" && podman info --format '{{.Store.GraphDriverName}}')
[ "$driver" = vfs ] || fail "podman info says the driver is $driver"
echo "ok: vfs on overlayfs, overlay elsewhere"
