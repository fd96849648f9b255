#!/usr/bin/env bash
# Installs what is missing, builds nn's tests and examples in Release, and runs the whole suite.
#   bash scripts/test.sh              the suite, built with -march=native
#   bash scripts/test.sh --sanitize   the suite under AddressSanitizer + UndefinedBehaviorSanitizer,
#                                     built with clang (the other compiler nn supports: code that only
#                                     one of them gets right fails here) and without -march=native (so
#                                     the SSE2 code paths run too), but for the tests labelled long
#                                     (real-data training through the code the short tests run), once
#                                     on each path of the run-time-chosen float kernels (NN_ISA)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The sanitized suite leaves out the tests labelled long, tests/onnx_pytorch.py among them.
[ "${1:-}" = "--sanitize" ] && export NN_WITH_CLANG=1 || export NN_WITH_PYTORCH=1
bash "$root/scripts/install-deps.sh"

jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = "--sanitize" ]; then
  build=${NN_BUILD_DIR:-$root/build/sanitize}
  # -g1: line tables for the reports without the full debug info that makes the test files huge.
  # -O0: a third of -O1's compile time under the sanitizers; tests/CMakeLists.txt gives the tests with heavy
  # arithmetic -O1 (this stage: 355 s against 519-631 s at -O1 everywhere).
  # clang builds this suite in 60 % of g++'s time under the sanitizers.
  flags=(-DCMAKE_CXX_COMPILER="${NN_SANITIZE_CXX:-clang++-14}" -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O0 -g1"
         -DNN_SANITIZE=ON -DNN_NATIVE=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  select=(-LE long)
else
  build=${NN_BUILD_DIR:-$root/build/release}
  # -O2 rather than CMake's -O3: the kernels force their inlining and unrolling (NN_INLINE, NN_UNROLL), so
  # the code that matters is the same, every pinned result is the same bits, and the suite builds in 80 % of
  # the time (347 s against 426 s on 2 cores, docs/testing.md). scripts/bench.sh measures the -O3 build.
  flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG")
  select=()
fi

# The benchmarks are figures, not tests: scripts/bench.sh and friends build them (75 s of CI otherwise).
cmake -S "$root" -B "$build" -DNN_WERROR=ON -DNN_BUILD_BENCHMARKS=OFF "${flags[@]}"
cmake --build "$build" -j "$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  # This build's float kernels are chosen at run time (no -march=native: NN_DISPATCH, docs/portable.md): the
  # suite once on each path this CPU runs, forced as a user forces it (NN_ISA).
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
  for isa in avx512 avx2 sse2; do
    case $isa in
      avx512) has avx512f avx512bw avx512dq avx512vl || { echo "test.sh: this CPU has no AVX-512: that path is not run"; continue; } ;;
      avx2) has avx2 fma || { echo "test.sh: this CPU has no AVX2: that path is not run"; continue; } ;;
    esac
    echo "test.sh: the suite with NN_ISA=$isa"
    NN_ISA=$isa ctest --test-dir "$build" --output-on-failure -j "$jobs" "${select[@]}"
  done
else
  ctest --test-dir "$build" --output-on-failure -j "$jobs" "${select[@]}"
fi
