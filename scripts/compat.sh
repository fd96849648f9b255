#!/usr/bin/env bash
# Builds and runs nn's test suite against another installation of xsimd (and optionally Catch2 v3):
#   bash scripts/compat.sh /opt/xsimd-14 [/opt/catch2-3]
# Each prefix is what `cmake --install` of that library produced. Nothing is downloaded or built here
# but nn's own tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 XSIMD_PREFIX [CATCH2_PREFIX]" >&2; exit 2; }
prefixes="$1${2:+;$2}"
build=$root/build/compat-$(basename "$1")${2:+-$(basename "$2")}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_WERROR=ON "-DCMAKE_PREFIX_PATH=$prefixes" \
  -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON
grep -E '^(xsimd_DIR|Catch2_DIR)' "$build/CMakeCache.txt"
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
