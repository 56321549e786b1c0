#!/usr/bin/env bash
# Draws the link graph of podcd's libraries and executables from CMake into docs/link-graph.svg:
# only podcd's own targets and the I/O libraries they link (tests, benchmarks and the warning and
# sanitizer flag targets are left out). Needs Graphviz (`apt-get install graphviz`).
#   scripts/link-graph.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat >"$out/CMakeGraphVizOptions.cmake" <<'OPTS'
set(GRAPHVIZ_GRAPH_NAME "podcd")
set(GRAPHVIZ_EXECUTABLES TRUE)
set(GRAPHVIZ_GENERATE_PER_TARGET FALSE)
set(GRAPHVIZ_GENERATE_DEPENDERS FALSE)
set(GRAPHVIZ_IGNORE_TARGETS "^unit_" "^integration_" "_bench$" "^podman_calls$" "^podcd_warnings$" "^podcd_sanitize$"
    "^podcd_serve_links" "Catch2" "Threads::Threads" "^podcd_rapidjson$" "^-")
OPTS
cp "$out/CMakeGraphVizOptions.cmake" .
cmake -S . -B "$out/build" -DPODCD_TESTS=OFF --graphviz="$out/podcd.dot" >/dev/null
rm -f CMakeGraphVizOptions.cmake
dot -Tsvg -Grankdir=BT "$out/podcd.dot" -o docs/link-graph.svg
[ -z "${PNG:-}" ] || dot -Tpng -Grankdir=BT "$out/podcd.dot" -o "$PNG"
echo "docs/link-graph.svg"
