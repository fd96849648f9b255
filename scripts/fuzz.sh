#!/usr/bin/env bash
# Fuzzes nn's file readers with libFuzzer (clang, ASan + UBSan; docs/untrusted-files.md).
#   bash scripts/fuzz.sh TARGET SECONDS [libFuzzer options]   one target: idx, idx_gzip, idx_stream, csv, params, onnx,
#                                                             checkpoint, quantized
#   bash scripts/fuzz.sh all SECONDS                          every target, one per core at a time
# Installs clang-14 and libclang-rt-14-dev when missing, builds in build/fuzz, writes the seed corpora
# (fuzz_seeds) into build/fuzz/corpus/TARGET, where inputs that reach new code are kept between runs.
# A failure leaves its input in build/fuzz/artifacts/ and the script exits non-zero; replay it with
#   build/fuzz/tests/fuzz/fuzz_TARGET build/fuzz/artifacts/crash-...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
targets=(idx idx_gzip idx_stream csv params onnx checkpoint quantized)
if [ $# -lt 2 ] || { [ "$1" != all ] && [[ ! " ${targets[*]} " =~ " $1 " ]]; } || [[ ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: bash scripts/fuzz.sh {all|${targets[*]// /|}} SECONDS [libFuzzer options]" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
NN_WITH_FUZZERS=1 bash "$root/scripts/install-deps.sh"

build=${NN_FUZZ_BUILD_DIR:-$root/build/fuzz}
# NN_DISPATCH=0: the fuzzers read files; the run-time-chosen float kernels (docs/portable.md), which the
# test suites cover, would only add their compile time (100 s of CI) to every fuzzer.
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1 -DNN_DISPATCH=0" \
  -DNN_BUILD_FUZZERS=ON -DNN_BUILD_TESTS=OFF -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCHMARKS=OFF >/dev/null
[ "$target" = all ] && run=("${targets[@]}") || run=("$target")
cmake --build "$build" -j "$(nproc)" --target fuzz_seeds "${run[@]/#/fuzz_}" >/dev/null
"$build/tests/fuzz/fuzz_seeds" "$build/corpus" >/dev/null
mkdir -p "$build/artifacts" "$build/logs"

# Bounded time and memory are part of what is checked: one input may take at most 10 s, a single
# allocation 256 MB and the whole process 2 GB (inputs are at most 64 KB).
fuzz_one() {
  local t=$1
  shift
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$@" "$build/corpus/$t" \
      >"$build/logs/$t.log" 2>&1; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$build/logs/$t.log" | tail -1)
    echo "fuzz_$t: $runs inputs in $seconds s, $cov, no failure"
  else
    echo "fuzz_$t: FAILED; the end of its log ($build/logs/$t.log):"
    tail -40 "$build/logs/$t.log"
    return 1
  fi
}

status=0
jobs=$(nproc 2>/dev/null || echo 2)
pids=()
for t in "${run[@]}"; do
  fuzz_one "$t" "$@" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
