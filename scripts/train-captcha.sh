#!/usr/bin/env bash
# Reproduces models/captcha.pt: CaptchaNet trained on endless synthetic captchas, with the
# default held-out style families (freefont, grid, perspective) never seen in training and
# scored separately. About 30 minutes on 2 shared CPU cores; the log shows each epoch.
#   scripts/train-captcha.sh [extra flags]
# TEMPORARY: runs the minimal loop in bench/bench_captcha_train_vision.cpp until
# digitnet::train() is on main; then `digitnet-train --task captcha` with the same settings.
set -euo pipefail
cd "$(dirname "$0")/.."
# Needs what scripts/setup.sh installs (LibTorch, OpenCV with freetype, the three font packages).
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-bench-captcha-train-vision >/dev/null
# libgomp's busy-waiting threads crawl when the cores are shared: let them sleep.
export OMP_WAIT_POLICY=PASSIVE
out=runs/captcha-default
mkdir -p "$out"
build/release/bin/digitnet-bench-captcha-train-vision --out "$out" --epochs 8 --batches 450 \
  --batch-size 64 --lr 0.003 --seed 0 "$@"
mkdir -p models
cp "$out/model.pt" models/captcha.pt
echo "wrote models/captcha.pt ($(du -h models/captcha.pt | cut -f1))" >&2
