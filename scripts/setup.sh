#!/usr/bin/env bash
# Installs every build and runtime dependency of podcd from Debian 12's packages,
# then configures and builds. Idempotent and non-interactive; run as root (or with sudo).
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential cmake pkg-config git curl ca-certificates
  libpistache-dev rapidjson-dev libssl-dev libcurl4-openssl-dev libgit2-dev
  libyaml-cpp-dev libyaml-dev libargon2-dev zlib1g-dev catch2
  clang libclang-rt-14-dev clang-16 libclang-rt-16-dev clang-format clang-tidy-16)
# clang-16 builds the fuzzers: clang 14 cannot compile libstdc++ 12's std::expected (see scripts/fuzz.sh).
# Real Podman and the services the integration tests start (see docs/testing.md).
TEST_PKGS=(python3 openssl podman runc conmon netavark aardvark-dns iptables catatonit busybox-static
  docker-registry skopeo debootstrap openssh-server openssh-client wrk procps iproute2)
# The browser test (tests/browser): Debian's Chromium, driven by playwright-core from npm.
BROWSER_PKGS=(chromium)
# Peers measured side by side by bench/.
PEER_PKGS=(docker-compose podman-compose webhook hyperfine)

need=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BROWSER_PKGS[@]}" "${PEER_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
# Node.js and npm may come from another packager than Debian's (then npm is in nodejs): ask for
# Debian's only when the commands are missing.
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Podman networks on Debian 12 (netavark 1.4) are bridges that take the lowest MAC address of
# their ports, so the bridge's MAC changes whenever a container joins or leaves the network.
# Its containers keep the old MAC for the gateway, where aardvark-dns answers, until their ARP
# entry expires: name lookups and traffic to the host hang for seconds after every replace.
# arp_notify makes the kernel announce the new address at once (docs/operations.md).
if [ "$(cat /proc/sys/net/ipv4/conf/all/arp_notify 2>/dev/null || echo 1)" != 1 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: setting net.ipv4.conf.all.arp_notify=1 (/etc/sysctl.d/60-podcd.conf; docs/operations.md)"
  echo "net.ipv4.conf.all.arp_notify = 1" | $SUDO tee /etc/sysctl.d/60-podcd.conf >/dev/null
  $SUDO sysctl -q -w net.ipv4.conf.all.arp_notify=1
fi

# playwright-core for the browser test, at the version of tests/browser/package-lock.json, with
# no browser download (it drives /usr/bin/chromium). Skipped when that version is installed.
browser_deps_current() {
  (cd tests/browser && node -e '
    const want = require("./package-lock.json").packages["node_modules/playwright-core"].version;
    const have = require("./node_modules/playwright-core/package.json").version;
    process.exit(want === have ? 0 : 1);' 2>/dev/null)
}
if ! browser_deps_current; then
  echo "setup: npm ci in tests/browser (playwright-core, no browser download)"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${PODCD_CMAKE_ARGS:-}
  cmake --build build -j"$(nproc)"
fi
