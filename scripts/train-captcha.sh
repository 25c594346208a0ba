#!/usr/bin/env bash
# Reproduces models/captcha.pt and models/captcha-metrics.json: CaptchaNet trained by
# `digitnet-train --task captcha` on endless synthetic captchas, with the default held-out style
# families (freefont, grid, perspective) never seen in training and scored separately.
# About 80 minutes on 2 quiet CPU cores; the log shows each epoch.
#   scripts/train-captcha.sh [extra digitnet-train flags]
set -euo pipefail
cd "$(dirname "$0")/.."
# Needs what scripts/setup.sh installs (LibTorch, OpenCV with freetype, the three font packages).
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-train >/dev/null
out=runs/captcha-default
if [ -e "$out/model.pt" ] && [[ " $* " != *" --resume "* ]]; then
  echo "$out/model.pt exists: pass --resume to continue it, or remove $out" >&2
  exit 1
fi
build/release/bin/digitnet-train --task captcha --out "$out" --epochs 60 --batches 450 \
  --batch-size 64 --channels 24 --hidden 128 --lr 0.003 --weight-decay 0.0001 --seed 0 "$@"
mkdir -p models
cp "$out/model.pt" models/captcha.pt
cp "$out/metrics.json" models/captcha-metrics.json
echo "wrote models/captcha.pt ($(du -h models/captcha.pt | cut -f1)) and models/captcha-metrics.json" >&2
