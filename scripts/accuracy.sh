#!/usr/bin/env bash
# Final test accuracy of the MNIST example over several seeds, with min, median and max:
#   bash scripts/accuracy.sh SEEDS [example options...]
#   bash scripts/accuracy.sh 20                      # the course's run on data/mnist, seeds 0..19
#   bash scripts/accuracy.sh 10 --fashion --epochs 10
# Needs the example built (bash scripts/mnist.sh --help builds it) and the data fetched.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exe=${NN_BUILD_DIR:-$root/build/release}/examples/mnist
[ -x "$exe" ] || { echo "build the example first: bash scripts/mnist.sh --help" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 SEEDS [example options...]" >&2; exit 2; }
seeds=$1
shift
cd "$root"
for ((s = 0; s < seeds; ++s)); do
  out=$("$exe" --seed "$s" --save - --no-progress "$@")
  acc=$(echo "$out" | awk '/^Test accuracy/ {print $NF}')
  secs=$(echo "$out" | awk '/^Training time/ {print $3}')
  echo "seed $s: test accuracy $acc, training $secs s"
  echo "$acc" >>"${tmp:=$(mktemp)}"
done
sort -n "$tmp" | awk '{a[NR] = $1} END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "%d seeds: min %.4f  median %.4f  max %.4f\n", NR, a[1], m, a[NR] }'
rm -f "$tmp"
