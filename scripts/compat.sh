#!/usr/bin/env bash
# Builds and runs nn's whole suite (Release, warnings as errors) against another installation of xsimd
# and, optionally, Catch2 v3; without a Catch2 prefix the system's Catch2 (Debian's 2.13) is used.
# Nothing is downloaded here; see usage below for making the prefixes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<'EOF'
usage: scripts/compat.sh XSIMD_PREFIX [CATCH2_PREFIX]
  Each prefix is what `cmake --install` of that library produced. The build goes to $NN_COMPAT_BUILD,
  else to build/compat-<prefix names>.

Making the prefixes (what docs/design.md records as checked), from clones of the two repositories:
  git clone https://github.com/xtensor-stack/xsimd /tmp/xsimd.git
  git clone https://github.com/catchorg/Catch2 /tmp/catch2.git
  for v in 13.2.0 14.3.0; do
    mkdir -p /tmp/src-xsimd-$v && git -C /tmp/xsimd.git archive $v | tar -x -C /tmp/src-xsimd-$v
    cmake -S /tmp/src-xsimd-$v -B /tmp/build-xsimd-$v -DCMAKE_INSTALL_PREFIX=/tmp/prefix-xsimd-$v
    cmake --install /tmp/build-xsimd-$v
  done
  mkdir -p /tmp/src-catch2-v3.7.1 && git -C /tmp/catch2.git archive v3.7.1 | tar -x -C /tmp/src-catch2-v3.7.1
  cmake -S /tmp/src-catch2-v3.7.1 -B /tmp/build-catch2-v3.7.1 -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_TESTING=OFF -DCATCH_INSTALL_DOCS=OFF -DCMAKE_INSTALL_PREFIX=/tmp/prefix-catch2-v3.7.1
  cmake --build /tmp/build-catch2-v3.7.1 -j 2 && cmake --install /tmp/build-catch2-v3.7.1

Then the three combinations:
  bash scripts/compat.sh /tmp/prefix-xsimd-13.2.0 /tmp/prefix-catch2-v3.7.1
  bash scripts/compat.sh /tmp/prefix-xsimd-14.3.0 /tmp/prefix-catch2-v3.7.1
  bash scripts/compat.sh /tmp/prefix-xsimd-14.3.0          # Debian's Catch2 2.13
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
[ $# -le 2 ] || { usage >&2; exit 2; }
for p in "$@"; do
  [ -d "$p" ] || { echo "compat.sh: no such prefix: $p" >&2; exit 2; }
done
xsimd_prefix=$(cd "$1" && pwd)
catch_prefix=${2:+$(cd "$2" && pwd)}
prefixes="$xsimd_prefix${catch_prefix:+;$catch_prefix}"
build=${NN_COMPAT_BUILD:-$root/build/compat-$(basename "$xsimd_prefix")${catch_prefix:+-$(basename "$catch_prefix")}}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_WERROR=ON "-DCMAKE_PREFIX_PATH=$prefixes" \
  -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON
# Which packages the build really found: a prefix without the expected version silently falls back to
# the system's.
grep -E '^(xsimd_DIR|Catch2_DIR)' "$build/CMakeCache.txt"
xsimd_config=$(grep -rlE 'define XSIMD_VERSION_MAJOR' "$xsimd_prefix/include" | head -n 1)
echo "xsimd $(awk '/define XSIMD_VERSION_(MAJOR|MINOR|PATCH)/ {printf "%s%s", sep, $3; sep="."}' "$xsimd_config")"
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
