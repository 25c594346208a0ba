#!/usr/bin/env bash
# Reproduces models/mnist-reader.pt, the reader's camera-robust MNIST model:
#   scripts/train-reader.sh [extra digitnet-train flags]
# `digitnet-train --task reader`: MNIST's train split (data/mnist, from scripts/get-data.sh)
# goes through the camera degradations and the one canonicalisation of vision/preprocess.h
# (vision/reader_data.h); 10% of it is kept for validation and the temperature; the test split
# is never used. Under a minute on 2 cores with the 8,000-image fallback, about 10 with full MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DIGITNET_MNIST_DIR:-data/mnist}
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ ! -f "$data/train-images-idx3-ubyte" ]; then
  bash scripts/get-data.sh
fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-train >/dev/null
out=runs/reader-default
if [ -e "$out/model.pt" ] && [[ " $* " != *" --resume "* ]]; then
  echo "$out/model.pt exists: pass --resume to continue it, or remove $out" >&2
  exit 1
fi
build/release/bin/digitnet-train --task reader --data-dir "$data" --out "$out" --epochs 8 --copies 4 --seed 0 "$@"
mkdir -p models
cp "$out/model.pt" models/mnist-reader.pt
echo "wrote models/mnist-reader.pt ($(du -h models/mnist-reader.pt | cut -f1))" >&2
