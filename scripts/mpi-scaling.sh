#!/usr/bin/env bash
# Training over MPI against one process, in one session (docs/distributed.md): benchmarks/mpi_scaling under
# mpirun -np 1 and -np 2, alternating, twice each; then, per network and mini-batch, each count's median
# time per step and the speed-up of 2 ranks over 1. Arguments go to mpi_scaling (e.g. --batch 64,128,1024).
# The machine should be otherwise idle.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NN_WITH_BENCHMARKS=1 bash "$root/scripts/install-deps.sh"
build=${NN_BUILD_DIR:-$root/build/bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_BENCHMARKS=ON -DNN_WITH_MPI=ON -DNN_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target mpi_scaling >/dev/null
mpirun=(mpirun --oversubscribe --bind-to core)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
grep -m1 "model name" /proc/cpuinfo || true
echo "cores: $(nproc); $(mpirun --version | head -1)"
for round in 1 2; do
  for np in 1 2; do "${mpirun[@]}" -np $np "$build/benchmarks/mpi_scaling" "$@" | tee -a "$log"; done
done
# "mpi_scaling: NET batch B ranks P: ... X us per step, Y bytes ..." -> the median per (NET, B, P), then ratios.
awk '
  /^mpi_scaling:/ {
    for (i = 1; i <= NF; i++) { if ($i == "batch") b = $(i + 1); if ($i == "ranks") p = $(i + 1); if ($i == "us") us = $(i - 1); if ($i == "bytes") by = $(i - 1) }
    sub(":", "", p); key = $2 " " b; t[key, p] = t[key, p] " " us; bytes[key, p] = by; keys[key] = 1
  }
  function median(s,   a, n, i, j, x) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    print "\n| network, mini-batch | 1 rank: us per step | 2 ranks: us per step | 2 ranks / 1 rank (speed-up) | bytes sent per step and rank |"
    print "|---|---|---|---|---|"
    for (k in keys) {
      one = median(t[k, 1]); two = median(t[k, 2])
      printf "| %s | %.0f | %.0f | %.2fx | %d |\n", k, one, two, one / two, bytes[k, 2]
    }
  }' "$log"
