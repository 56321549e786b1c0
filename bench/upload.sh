#!/usr/bin/env bash
# POST /upload's throughput and memory (docs/benchmarks.md, "Uploads"): a SIZE MB image archive
# (busybox plus one layer of random bytes) uploaded with curl -F to `podcd serve` on the testenv
# Podman. Prints the time `cp` takes for the same file (the disk's speed), the daemon's receive
# time and throughput (its "received_ms" log field: first byte to the archive on disk), the load
# time (the __load-image worker), the same curl to a bare socket sink on loopback (the pipe's own
# speed, the peer figure), and podcd-serve's RSS sampled every 10 ms during the upload,
# with its VmHWM (peak) at the end.
#   source <testenv dir>/env.sh; bench/upload.sh [PODCD=build/src/podcd] [SIZE=200]
set -euo pipefail
PODCD=$(realpath "${1:-build/src/podcd}"); SIZE=${2:-200}
: "${PODCD_TEST_PODMAN_SOCKET:?source testenv env.sh}"
W=$(mktemp -d /tmp/ubench.XXXX)
TAG=localhost/podcd-upload-bench:1
git init -q --bare -b main $W/remote.git
git init -q -b main $W/dev
mkdir -p $W/dev/services/up $W/ctx
printf 'services:\n  app:\n    image: %s\n    command: ["sleep", "3600"]\n    init: true\n' $TAG > $W/dev/services/up/compose.yml
git -C $W/dev add -A; git -C $W/dev -c user.name=b -c user.email=b@b commit -qm one; git -C $W/dev push -q $W/remote.git main
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=bench-token-0123456789abcdef
cat > $W/podcd.yml <<C
listen: 127.0.0.1:$PORT
webhook: {secret: bench-secret-0123456789}
api: {token: $TOKEN}
repo: {url: "file://$W/remote.git", branch: main}
podman: {socket: $PODCD_TEST_PODMAN_SOCKET}
state_dir: $W/state
health: {settle: 0s}
log: {level: info}
poll: {interval: 0}
C
cleanup() {
  [ -n "${SPID:-}" ] && kill $SPID 2>/dev/null
  [ -n "${DPID:-}" ] && kill $DPID 2>/dev/null
  wait 2>/dev/null
  podman rm -f -t 0 $(podman ps -aq --filter label=io.podcd.stack=up) >/dev/null 2>&1 || true
  podman network rm -f up_default >/dev/null 2>&1 || true
  podman rmi -f $TAG >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf $W
}
trap cleanup EXIT
# The archive: SIZE MB of random bytes in one layer (incompressible, as a real image's binaries).
printf 'FROM localhost/bb:1\nRUN head -c %d /dev/urandom > /blob\n' $((SIZE * 1000000)) > $W/ctx/Containerfile
podman build -q -t $TAG $W/ctx >/dev/null
podman save -q -o $W/image.tar $TAG
BYTES=$(stat -c %s $W/image.tar)
sync
t0=$(date +%s%N); cp $W/image.tar $W/copy.tar; sync $W/copy.tar; t1=$(date +%s%N); rm -f $W/copy.tar
CP_MS=$(( (t1 - t0) / 1000000 ))
# The pipe's own speed: the same curl -F to a bare sink on loopback (python's socket loop that
# writes what arrives to a file, unsynced like podcd's, and answers 200 at the last byte).
SINK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$SINK_PORT" "$W/sink.bin" "$W/sink.ready" <<'PY' & SINKPID=$!
import os, socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1)
open(sys.argv[3], "w").close()
conn, _ = srv.accept()
with open(sys.argv[2], "wb") as out:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(65536)
        if not chunk: sys.exit(1)
        head += chunk
    headers, body = head.split(b"\r\n\r\n", 1)
    if b"100-continue" in headers.lower():
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    length = int([l.split(b":")[1] for l in headers.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    out.write(body); got = len(body)
    while got < length:
        chunk = conn.recv(262144)
        if not chunk: break
        out.write(chunk); got += len(chunk)
    out.flush()
conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); conn.close()
PY
for _ in $(seq 100); do [ -e $W/sink.ready ] && break; sleep 0.1; done
t0=$(date +%s%N)
curl -sS -o /dev/null -F project=up -F image=@$W/image.tar http://127.0.0.1:$SINK_PORT/upload || true
t1=$(date +%s%N); wait $SINKPID 2>/dev/null || true; rm -f $W/sink.bin
SINK_MS=$(( (t1 - t0) / 1000000 ))
$PODCD --config $W/podcd.yml serve 2>$W/serve.log & DPID=$!
for _ in $(seq 200); do curl -sf -o /dev/null http://127.0.0.1:$PORT/health && break; sleep 0.1; done
# The first deployment (startup) runs the tag as it is.
for _ in $(seq 300); do [ -n "$(podman ps -q --filter label=io.podcd.stack=up)" ] && break; sleep 0.2; done
SERVE=$(pgrep -P $DPID podcd-serve || echo $DPID)  # `podcd serve` may exec podcd-serve (same pid)
IDLE=$(awk '/^VmRSS/{print $2}' /proc/$SERVE/status)
( peak=0; while kill -0 $SERVE 2>/dev/null; do r=$(awk '/^VmRSS/{print $2}' /proc/$SERVE/status 2>/dev/null || echo 0); [ "${r:-0}" -gt $peak ] && peak=$r && echo $peak > $W/peak; sleep 0.01; done ) & SPID=$!
t0=$(date +%s%N)
CODE=$(curl -sS -o $W/answer -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F project=up -F image=@$W/image.tar http://127.0.0.1:$PORT/upload)
t1=$(date +%s%N)
sleep 0.1; kill $SPID 2>/dev/null || true; wait $SPID 2>/dev/null || true; SPID=
HWM=$(awk '/^VmHWM/{print $2}' /proc/$SERVE/status)
LINE=$(grep 'image uploaded and loaded' $W/serve.log | tail -1)
RECV_MS=$(sed -n 's/.*received_ms=\([0-9]*\).*/\1/p' <<<"$LINE")
LOAD_MS=$(sed -n 's/.*load_ms=\([0-9]*\).*/\1/p' <<<"$LINE")
mbps() { awk -v b=$BYTES -v ms=$1 'BEGIN { if (ms < 1) ms = 1; printf "%.0f", b / 1e6 / (ms / 1000) }'; }
echo "archive: $((BYTES / 1000000)) MB; answer $CODE: $(cat $W/answer)"
echo "cp of the archive (disk speed): ${CP_MS} ms, $(mbps $CP_MS) MB/s"
echo "curl -F to a bare loopback sink (the pipe's speed): ${SINK_MS} ms, $(mbps $SINK_MS) MB/s"
echo "upload received to disk: ${RECV_MS:-?} ms, $(mbps ${RECV_MS:-1}) MB/s ($(awk -v a=${RECV_MS:-0} -v b=$SINK_MS 'BEGIN { printf "%.2f", a / (b ? b : 1) }')x the sink's time)"
echo "load (podcd __load-image, Podman unpacking): ${LOAD_MS:-?} ms; whole request: $(( (t1 - t0) / 1000000 )) ms"
echo "podcd-serve RSS: idle ${IDLE} kB, peak sampled during the upload $(cat $W/peak 2>/dev/null || echo ?) kB, VmHWM ${HWM} kB"
