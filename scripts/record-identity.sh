#!/usr/bin/env bash
# Re-records tests/identity_expected.hpp, the pinned results of tests/identity_test.cpp, for the three
# instruction sets it knows (AVX-512, AVX2, SSE2). Only after a deliberate change of a training step's
# arithmetic: say why in the commit. Needs an AVX-512 machine and Debian's Catch2 v2.
#   bash scripts/record-identity.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#define CATCH_CONFIG_MAIN\n#include <catch2/catch.hpp>\n' > "$work/main.cpp"
g++ -std=c++20 -O2 -c "$work/main.cpp" -o "$work/main.o"
# Compiled against an empty table (in print mode the test only prints what each build computes).
mkdir -p "$work/inc"
echo 'inline constexpr pinned expected[] = {{"", "", "", ""}};' > "$work/inc/identity_expected.hpp"
for isa in avx512:-march=native avx2:-mavx2\ -mfma sse2:; do
  name=${isa%%:*}
  flags=${isa#*:}
  # shellcheck disable=SC2086
  g++ -std=c++20 -O2 -ffp-contract=off $flags -DNN_DISPATCH=0 -DNN_CATCH_MAJOR=2 -DNN_FASHION_DIR='"/usr/share/datasets/fashion-mnist"' \
    -I"$work/inc" -I"$root/include" -I"$root/tests" "$root/tests/identity_test.cpp" "$work/main.o" -lz \
    -o "$work/$name" -w
  NN_IDENTITY_PRINT=1 "$work/$name" >"$work/$name.out" 2>&1 || true
  grep '^@@ ' "$work/$name.out" | sed 's/^@@ //' > "$work/$name.txt"
done
python3 - "$work" "$root/tests/identity_expected.hpp" <<'PY'
import sys
work, out = sys.argv[1], sys.argv[2]
cols = {}
order = []
for isa in ("avx512", "avx2", "sse2"):
    for line in open(f"{work}/{isa}.txt"):
        name, value = line.rstrip("\n").split("|", 1)
        if name not in cols:
            cols[name] = {}
            order.append(name)
        cols[name][isa] = value
with open(out, "w") as f:
    f.write("// Pinned by scripts/record-identity.sh: what tests/identity_test.cpp's runs give, per instruction set.\n")
    f.write("// clang-format off\ninline constexpr pinned expected[] = {\n")
    for n in order:
        f.write(f'  {{"{n}",\n')
        for isa in ("avx512", "avx2", "sse2"):
            f.write(f'   "{cols[n].get(isa, "")}"' + (",\n" if isa != "sse2" else "},\n"))
    f.write("};\n")
PY
echo "wrote $root/tests/identity_expected.hpp"
