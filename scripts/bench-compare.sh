#!/usr/bin/env bash
# Old beside new: builds train_bench (and kernels_bench) at a git revision and at the working tree with the
# same flags, runs them alternately (old, new, new, old, ...) in one run, and prints each figure's median
# over the rounds with the ratio new/old. For "no figure slower" checks (docs/benchmarks.md).
#   bash scripts/bench-compare.sh REV [--rounds N] [--epochs N] [--kernels]
# e.g. bash scripts/bench-compare.sh 8e44150 --rounds 3
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,6p' "$0"; exit 2; }
rev=$1; shift
rounds=3 epochs=3 kernels=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --kernels) kernels=1; shift ;;
    *) echo "bench-compare: unknown option '$1'" >&2; exit 2 ;;
  esac
done
NN_WITH_BENCHMARKS=1 bash "$root/scripts/install-deps.sh"
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach "$work/old" "$rev" >/dev/null
fashion=/usr/share/datasets/fashion-mnist
# The flags of nn's own Release builds (CMakeLists.txt: -O3, -march=native, no FP contraction).
flags=(-std=gnu++20 -O3 -DNDEBUG -march=native -ffp-contract=off)
for v in old new; do
  inc=$([ $v = old ] && echo "$work/old/include" || echo "$root/include")
  g++ "${flags[@]}" -I"$inc" "$root/benchmarks/train_bench.cpp" -o "$work/train_$v" -lz &
  if [ $kernels = 1 ]; then
    g++ "${flags[@]}" -I"$inc" -I"$root/tests" "$root/benchmarks/kernels_bench.cpp" -o "$work/kernels_$v" -lbenchmark -lpthread &
  fi
done
wait
# Each figure's old and new runs are neighbours, in the order old new, then new old in the next round
# (so a machine that slows down or speeds up during the run favours neither).
for r in $(seq "$rounds"); do
  order="old new"; [ $((r % 2)) = 0 ] && order="new old"
  for b in 10 64; do
    for v in $order; do
      "$work/train_$v" --data "$fashion" --epochs "$epochs" --batch $b |
        awk -v v=$v -v b=$b '/ (train|predict|evaluate)/ { label = $1 " " $2; gsub(",", "", label); if ($3 == "new") label = label " new";
                               for (i = 1; i <= NF; ++i) if ($i == "samples/s") print v, "batch " b, label, "samples/s", $(i - 1) }' >> "$work/rows"
    done
  done
  for v in $order; do
    if [ $kernels = 1 ]; then
      "$work/kernels_$v" --benchmark_min_time=0.1 2>/dev/null |
        awk -v v=$v '/GFLOP\/s=/ { for (i = 1; i <= NF; ++i) if ($i ~ /^GFLOP\/s=/) { x = $i; sub(/^GFLOP\/s=/, "", x); sub(/G\/s$/, "", x); print v, "kernel", $1, "GFLOP/s", x } }' >> "$work/rows"
    fi
  done
done
python3 - "$work/rows" <<'PY'
import sys, statistics, collections
vals = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    v, key, x = parts[0], " ".join(parts[1:-1]), parts[-1]
    try:
        vals[(key, v)].append(float(x))
    except ValueError:
        pass
keys = sorted({k for k, _ in vals})
n = len(vals[(keys[0], "old")]) if keys else 0
print(f"{'figure':52} {'old':>12} {'new':>12} {'new/old':>8} {'paired':>7}   (medians of {n} rounds; paired: the median")
print(f"{'':52} {'':>12} {'':>12} {'':>8} {'':>7}    of each round's new/old)")
for k in keys:
    o, nw = vals.get((k, "old")), vals.get((k, "new"))
    if not o or not nw:
        continue
    mo, mn = statistics.median(o), statistics.median(nw)
    paired = statistics.median(b / a for a, b in zip(o, nw))
    print(f"{k:52} {mo:12.1f} {mn:12.1f} {mn / mo:8.3f} {paired:7.3f}")
PY
