#!/usr/bin/env bash
# Sets up podcd and runs it on the bundled example (examples/env), natively, in the
# foreground. Everything lives under $DEMO_DIR (default /tmp/podcd-demo):
#   - an isolated Podman API service and the busybox image the example stacks use
#     (scripts/testenv.sh; your own containers are not touched),
#   - a bare git repository made from examples/env, which podcd clones and follows,
#   - podcd's state directory, config and webhook secret.
# Ctrl-C stops podcd; `scripts/demo.sh stop` then removes the demo's containers and services
# (and stops podcd first when it still runs, e.g. when the demo was sent to the background).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO_DIR=${DEMO_DIR:-/tmp/podcd-demo}
PORT=${PODCD_DEMO_PORT:-8080}

if [ "${1:-}" = stop ]; then
  # A podcd still running (the demo was sent to the background, or its terminal closed) is
  # stopped first, by the PID the demo recorded, and only if it is still this demo's podcd.
  pid=$(cat "$DEMO_DIR/podcd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--config $DEMO_DIR/podcd.yml serve"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped podcd (pid $pid)"
  fi
  scripts/testenv.sh stop "$DEMO_DIR/podman"
  rm -rf "$DEMO_DIR"
  exit 0
fi

bash scripts/setup.sh
mkdir -p "$DEMO_DIR"
if [ ! -f "$DEMO_DIR/podman/env.sh" ]; then
  scripts/testenv.sh start "$DEMO_DIR/podman"
fi
# shellcheck disable=SC1091
. "$DEMO_DIR/podman/env.sh"

# The environment repository: a bare remote holding examples/env as one commit.
if [ ! -d "$DEMO_DIR/env.git" ]; then
  work=$(mktemp -d)
  cp -a examples/env/. "$work/"
  git -C "$work" init -q -b main
  git -C "$work" -c user.name=podcd-demo -c user.email=demo@localhost add -A
  git -C "$work" -c user.name=podcd-demo -c user.email=demo@localhost commit -qm "example environment"
  git clone -q --bare "$work" "$DEMO_DIR/env.git"
  rm -rf "$work"
fi
[ -f "$DEMO_DIR/webhook_secret" ] || openssl rand -hex 32 >"$DEMO_DIR/webhook_secret"
mkdir -p "$DEMO_DIR/state"
cat >"$DEMO_DIR/podcd.yml" <<YAML
listen: 127.0.0.1:$PORT
webhook:
  secret_file: $DEMO_DIR/webhook_secret
repo:
  url: file://$DEMO_DIR/env.git
  path: $DEMO_DIR/state/repo
  branch: main
podman:
  socket: $PODCD_TEST_PODMAN_SOCKET
self:
  stack: podcd
state_dir: $DEMO_DIR/state
health:
  settle: 2s
policy:
  allow:
    podcd: [podman_socket]
YAML

BIN=$ROOT/build/src/podcd
"$BIN" check-config --config "$DEMO_DIR/podcd.yml"
cat <<TXT

podcd is starting on http://127.0.0.1:$PORT for the example in examples/env.
  Send a signed webhook:
    body='{}'; sig=\$(printf %s "\$body" | $BIN sign --secret-file $DEMO_DIR/webhook_secret -)
    curl -s -X POST -H "X-Hub-Signature-256: \$sig" --data "\$body" http://127.0.0.1:$PORT/deploy-all-changed
  Push a change:  git clone $DEMO_DIR/env.git /tmp/env && edit, commit, git push
  See:            $BIN status --server http://127.0.0.1:$PORT
  The web stack:  curl http://127.0.0.1:18080/
  Stop:           Ctrl-C, then scripts/demo.sh stop

TXT
# podcd keeps this PID (`podcd serve` execs podcd-serve): `scripts/demo.sh stop` reads it.
echo $$ >"$DEMO_DIR/podcd.pid"
exec "$BIN" --config "$DEMO_DIR/podcd.yml" serve
