#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md on this machine and prints the figures:
#   bash scripts/bench.sh            kernels beside their scalar twins, end-to-end training and
#                                    inference against the measured FMA peak, PyTorch's training
#                                    beside nn's (when python3-torch is installed), threads, the book's
#                                    convolutional networks beside PyTorch (when python3-torch is
#                                    installed), int8 inference beside float (and PyTorch's int8),
#                                    peak memory of the MNIST example on Fashion-MNIST, and
#                                    its and convnet's compile time at -O2
#   bash scripts/bench.sh --quick    the same with fewer repetitions
# Installs what is missing (Google Benchmark, Fashion-MNIST from Debian), builds in Release with
# -march=native in build/bench. The machine should be otherwise idle; figures are medians.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NN_WITH_BENCHMARKS=1 bash "$root/scripts/install-deps.sh"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

quick=0
[ "${1:-}" = "--quick" ] && quick=1
build=${NN_BUILD_DIR:-$root/build/bench}
jobs=$(nproc 2>/dev/null || echo 2)
fashion=/usr/share/datasets/fashion-mnist

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_BENCHMARKS=ON -DNN_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs" --target kernels_bench train_bench convnet_bench int8_bench mnist

echo "== machine"
grep -m1 "model name" /proc/cpuinfo || true
echo "cores: $(nproc)   $(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no avx512f')   g++ $(g++ -dumpversion)"

echo; echo "== kernels: SIMD beside scalar (median of 3 repetitions)"
if [ $quick = 1 ]; then min_time=0.05; else min_time=0.3; fi
"$build/benchmarks/kernels_bench" --benchmark_min_time=$min_time --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "^(Benchmark|-|.*_median)"

echo; echo "== end to end, one thread, mini-batch 10"
epochs=$([ $quick = 1 ] && echo 2 || echo 5)
"$build/benchmarks/train_bench" --data "$fashion" --epochs "$epochs"

echo; echo "== end to end, mini-batch 64, one thread and two"
"$build/benchmarks/train_bench" --data "$fashion" --epochs "$epochs" --batch 64 --threads 1,2

echo; echo "== end to end, mini-batch 128, one thread, and PyTorch's training (the same algorithm) beside it"
taskset -c 0 "$build/benchmarks/train_bench" --data "$fashion" --epochs "$epochs" --batch 128
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 "$root/benchmarks/torch_train.py" \
    --data "$fashion" --epochs "$([ $quick = 1 ] && echo 1 || echo 3)"
  # nn's steps flush subnormal numbers to 0 (trainer::flush_subnormals); PyTorch's fastest form so too.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 "$root/benchmarks/torch_train.py" \
    --data "$fashion" --epochs "$([ $quick = 1 ] && echo 1 || echo 3)" --form matmul --flush-denormal
fi

echo; echo "== convolutional networks (the book's chapter 6), one thread, nn beside PyTorch"
samples=$([ $quick = 1 ] && echo 2000 || echo 10000)
taskset -c 0 "$build/benchmarks/convnet_bench" --data "$fashion" --samples "$samples"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 "$root/benchmarks/torch_convnet.py" \
    --data "$fashion" --samples "$samples"
else
  echo "(PyTorch is not installed: apt-get install python3-torch python3-numpy for the side-by-side figures)"
fi

echo; echo "== int8 inference beside float (every int8 path this CPU runs), one thread, and PyTorch's int8"
taskset -c 0 "$build/benchmarks/int8_bench" --data "$fashion" --rounds "$([ $quick = 1 ] && echo 3 || echo 7)"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 "$root/benchmarks/torch_int8.py" "$([ $quick = 1 ] && echo 3 || echo 7)"
fi

echo; echo "== peak memory: the MNIST example, 2 epochs on full Fashion-MNIST"
/usr/bin/time -v "$build/examples/mnist" --fashion --data "$fashion" --epochs 2 --save - --no-progress 2>&1 |
  grep -E "Epoch|Maximum resident"

echo; echo "== compile time: the MNIST and convnet examples at -O2 -march=native (no build system, one command)"
incs=$(printf -- '-I%s ' "$root/include")
for example in mnist convnet; do
  start=$(date +%s%N)
  g++ -std=c++20 -O2 -march=native $incs "$root/examples/$example.cpp" -o "$build/$example-O2" -lz -pthread
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf 'g++ -std=c++20 -O2 -march=native examples/%s.cpp: %d.%03d s\n' "$example" $((ms / 1000)) $((ms % 1000))
done
