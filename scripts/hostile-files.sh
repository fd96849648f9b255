#!/usr/bin/env bash
# The hostile files of docs/untrusted-files.md, each made and read in a process of its own: the read's
# time, the process's peak memory and the error. Needs about 300 MB in ${TMPDIR:-/tmp} (and makes a
# 4 GiB gzip bomb there once, about 4 MB, which takes a minute).
#   bash scripts/hostile-files.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NN_WITH_BENCHMARKS=1 bash "$root/scripts/install-deps.sh"
build=${NN_BUILD_DIR:-$root/build/bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_BENCHMARKS=ON -DNN_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target hostile_files >/dev/null
dir=${TMPDIR:-/tmp}
echo "| input | read | peak memory | error |"
echo "|---|---|---|---|"
for c in $("$build/benchmarks/hostile_files" --list); do
  "$build/benchmarks/hostile_files" "$c" "$dir" | sed 's/^/| /; s/$/ |/'
done
rm -f "$dir"/nn_hostile_commas.csv "$dir"/nn_hostile_row.csv "$dir"/nn_hostile_cell.csv "$dir"/nn_hostile_params \
  "$dir"/nn_hostile.onnx
