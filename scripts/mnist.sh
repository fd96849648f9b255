#!/usr/bin/env bash
# The README's first command: installs what is missing, fetches the data (scripts/fetch-data.sh), builds
# the MNIST example in Release and trains the course's network: 784-30-10, η = 3.0, mini-batch 10,
# 30 epochs. Arguments go to the example (e.g. --fashion, --hidden 100, --epochs 10; see --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/fetch-data.sh" "$root/data"

build=${NN_BUILD_DIR:-$root/build/release}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNN_WERROR=ON >/dev/null
cmake --build "$build" --target mnist -j "$(nproc 2>/dev/null || echo 2)"
cd "$root"
exec "$build/examples/mnist" "$@"
