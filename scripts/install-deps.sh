#!/usr/bin/env bash
# Installs, from Debian's packages, whatever nn's build and tests need and this machine lacks.
# Uses sudo when not run as root. Does nothing when everything is there.
set -euo pipefail

# dataset-fashion-mnist: real data for the MNIST example's test and for scripts/fetch-data.sh.
# libopenmpi-dev, openmpi-bin: the optional nn::mpi component, its tests and the mnist_mpi example.
# qemu-user: the tests that run a program built for any x86-64 as older CPUs (docs/portable.md).
packages=(cmake make g++ libxsimd-dev catch2 zlib1g-dev dataset-fashion-mnist libopenmpi-dev openmpi-bin qemu-user)
# libopenblas0-pthread: the BLAS of the PyTorch peer in scripts/bench.sh (without it Debian's PyTorch
# falls back to the reference BLAS, about 6 GFLOP/s here, and the side-by-side figures mean nothing).
[ "${NN_WITH_BENCHMARKS:-0}" = 1 ] && packages+=(libbenchmark-dev libopenblas0-pthread)
# scripts/test.sh: PyTorch and ONNX's checker for tests/onnx_pytorch.py (the library never needs Python).
[ "${NN_WITH_PYTORCH:-0}" = 1 ] && packages+=(python3-torch python3-onnx python3-numpy)
# scripts/fuzz.sh and scripts/test.sh --sanitize: clang, its libFuzzer and sanitizer runtimes.
{ [ "${NN_WITH_FUZZERS:-0}" = 1 ] || [ "${NN_WITH_CLANG:-0}" = 1 ]; } && packages+=(clang-14 libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "nn: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "nn: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
