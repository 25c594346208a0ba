#!/usr/bin/env bash
# Reproduces models/mnist-reader.pt, the reader's camera-robust MNIST model:
#   scripts/train-reader.sh [OUT]        (default OUT: models/mnist-reader.pt)
# MNIST's train split (data/mnist, from scripts/get-data.sh) goes through the camera
# degradations and the one canonicalisation of vision/preprocess.h (vision/reader_data.h),
# 8 epochs on the CPU (about 15 minutes on 2 free cores). The test split is never used.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-models/mnist-reader.pt}
data=${DIGITNET_MNIST_DIR:-data/mnist}
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ ! -f "$data/train-images-idx3-ubyte" ]; then
  bash scripts/get-data.sh
fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-train-reader >/dev/null
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do
  if [ -f "$data/$f.gz" ]; then zcat "$data/$f.gz" >"$raw/$f"; else cp "$data/$f" "$raw/$f"; fi
done
build/release/bin/digitnet-train-reader --data-dir "$raw" --out "$out" --epochs 8 --copies 4 --seed 0
