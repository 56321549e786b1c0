#!/usr/bin/env bash
# The habits CI keeps: clang-format in check mode over every C++ file, and clang-tidy (the
# project's .clang-tidy, warnings as errors) over src/. Exits non-zero on any finding.
#   scripts/lint.sh [BUILD_DIR]     # BUILD_DIR holds compile_commands.json (default: build)
# clang-tidy 16 (Debian's clang-tidy-16): clang 14 cannot parse libstdc++ 12's <expected>;
# clang 16 needs -std=c++2b for -std=c++23 and __cpp_concepts raised (as scripts/fuzz.sh;
# undefined first, so that the new value is no redefinition).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
status=0
echo "lint: clang-format --dry-run"
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp')
clang-format --dry-run --Werror "${files[@]}" || status=1
echo "lint: clang-tidy-16 over src/"
run-clang-tidy-16 -quiet -j"$(nproc)" -p "$BUILD_DIR" \
  -extra-arg=-std=c++2b -extra-arg=-U__cpp_concepts -extra-arg=-D__cpp_concepts=202002L \
  "$PWD/src/" > "$BUILD_DIR/clang-tidy.log" 2>&1 || status=1
grep -E "(warning|error): .*\[[a-z.,-]+\]$" "$BUILD_DIR/clang-tidy.log" | sort -u || true
[ $status -eq 0 ] && echo "lint: clean"
exit $status
