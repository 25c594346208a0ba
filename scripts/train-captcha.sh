#!/usr/bin/env bash
# Reproduces models/captcha.pt and models/captcha-metrics.json: CaptchaNet trained by
# `digitnet-train --task captcha` on endless synthetic captchas, with the default held-out style
# families (freefont, grid, perspective) never seen in training and scored separately.
# Seven stages, each run resumable (the log shows every epoch); times on 2 quiet CPU cores:
#   1. 60 epochs from random weights on the renderer's first styles (the later families
#      excluded): about 85 minutes, runs/captcha-stage1;
#   2. 25 epochs from stage 1's weights on every style but framing and more (the latest
#      families): about 40 minutes, runs/captcha-stage2;
#   3. five runs of 15-20 epochs from stage 2's weights, each with its own seed and some with
#      the latest families (about 25-35 minutes each), then the mean of their weights
#      (`--average`, a "model soup"): runs/captcha-soup. The mean reads unseen styles better
#      than any one of them (bench/BENCHMARKS.md).
#   4. two runs of 15 epochs from that soup with the families added since (weight; weight and
#      implode), about 22 minutes each, averaged with it: runs/captcha-soup2.
#   5. three runs of 15 epochs from that soup that mirror half of the 1s leaning clockwise and
#      the 7s leaning anticlockwise (`--mirror-1-7 0.5`: such leans draw the other digit), about
#      22 minutes each, averaged with it: runs/captcha-soup3.
#   6. seven runs of 15 epochs from that soup (seeds 13-19) that also draw 15% of captchas with
#      MNIST's handwritten training digits (`--handwriting data/mnist`, from scripts/get-data.sh),
#      24-28 minutes each; their mean, without the soup: runs/captcha-soup4.
#   7. two runs of 15 epochs from that mean with every family (seeds 20 and 21; the zeros,
#      dotted, tilt, scatter, scribble, circles and erase families are new), 32-34 minutes each,
#      averaged with it: runs/captcha-soup5, the model.
#   scripts/train-captcha.sh [--resume]
set -euo pipefail
cd "$(dirname "$0")/.."
resume=0
case "${1:-}" in
  --resume) resume=1 ;;
  "") ;;
  *) echo "train-captcha.sh: unknown argument '$1' (only --resume)" >&2; exit 2 ;;
esac
# Needs what scripts/setup.sh installs (LibTorch, OpenCV with freetype, the font packages).
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-train >/dev/null
common=(--task captcha --batches 450 --batch-size 64 --weight-decay 0.0001)
# The seventh stage's families, and the later ones, which every earlier stage was trained without.
eighth=flags
ninth=strikes
newest=zeros,dotted,tilt,scatter,scribble,circles,erase,$eighth,$ninth
later_families=shadow,elastic,particles,rings,binary,extra,framing,more,weight,implode,$newest

stage() {  # OUT FLAGS...: one stage; with --resume a complete one is kept, a partial one continued
  local out="$1" more=()
  shift
  if [ -e "$out/model.pt" ]; then
    if [ "$resume" = 0 ]; then
      echo "train-captcha.sh: $out/model.pt exists: pass --resume to continue, or remove $out" >&2
      exit 1
    fi
    if grep -q '"complete": true' "$out/metrics.json" 2>/dev/null; then
      echo "train-captcha.sh: $out is complete" >&2
      return
    fi
    more=(--resume)
  fi
  build/release/bin/digitnet-train "${common[@]}" --out "$out" "$@" "${more[@]}"
}
stage runs/captcha-stage1 --epochs 60 --channels 24 --hidden 128 --lr 0.003 --seed 0 --exclude "$later_families"
stage runs/captcha-stage2 --init runs/captcha-stage1/model.pt --epochs 25 --lr 0.0015 --seed 1 --exclude framing,more,weight,implode,$newest
third=(--init runs/captcha-stage2/model.pt)
stage runs/captcha-stage3 "${third[@]}" --epochs 20 --lr 0.001 --seed 2 --exclude framing,more,weight,implode,$newest
stage runs/captcha-stage3f "${third[@]}" --epochs 15 --lr 0.0015 --seed 2 --exclude more,weight,implode,$newest
stage runs/captcha-stage3m "${third[@]}" --epochs 20 --lr 0.0015 --seed 3 --exclude weight,implode,$newest
stage runs/captcha-stage3s4 "${third[@]}" --epochs 15 --lr 0.0015 --seed 4 --exclude weight,implode,$newest
stage runs/captcha-stage3s5 "${third[@]}" --epochs 15 --lr 0.0015 --seed 5 --exclude weight,implode,$newest
if [ ! -e runs/captcha-soup/model.pt ]; then
  build/release/bin/digitnet-train --task captcha --out runs/captcha-soup \
    --average runs/captcha-stage3/model.pt,runs/captcha-stage3f/model.pt,runs/captcha-stage3m/model.pt,runs/captcha-stage3s4/model.pt,runs/captcha-stage3s5/model.pt
fi
fourth=(--init runs/captcha-soup/model.pt --epochs 15 --lr 0.0015)
stage runs/captcha-stage4w "${fourth[@]}" --seed 6 --exclude implode,$newest
stage runs/captcha-stage4i "${fourth[@]}" --seed 7 --exclude "$newest"
if [ ! -e runs/captcha-soup2/model.pt ]; then
  build/release/bin/digitnet-train --task captcha --out runs/captcha-soup2 \
    --average runs/captcha-soup/model.pt,runs/captcha-stage4w/model.pt,runs/captcha-stage4i/model.pt
fi
fifth=(--init runs/captcha-soup2/model.pt --epochs 15 --lr 0.0015 --mirror-1-7 0.5 --exclude "$newest")
stage runs/captcha-stage5s9 "${fifth[@]}" --seed 9
stage runs/captcha-stage5s11 "${fifth[@]}" --seed 11
stage runs/captcha-stage5s12 "${fifth[@]}" --seed 12
if [ ! -e runs/captcha-soup3/model.pt ]; then
  build/release/bin/digitnet-train --task captcha --out runs/captcha-soup3 \
    --average runs/captcha-soup2/model.pt,runs/captcha-stage5s9/model.pt,runs/captcha-stage5s11/model.pt,runs/captcha-stage5s12/model.pt
fi
[ -d data/mnist ] || bash scripts/get-data.sh >&2
sixth=(--init runs/captcha-soup3/model.pt --epochs 15 --lr 0.0015 --mirror-1-7 0.5 --handwriting data/mnist
       --exclude "$newest")
sixth_runs=()
for seed in 13 14 15 16 17 18 19; do
  stage "runs/captcha-stage6h$seed" "${sixth[@]}" --seed "$seed"
  sixth_runs+=("runs/captcha-stage6h$seed/model.pt")
done
sixth_list=$(IFS=,; echo "${sixth_runs[*]}")
# A soup of other runs (a smaller mean shipped before) is made again from these.
if ! grep -qF "\"averaged_from\": \"$sixth_list\"" runs/captcha-soup4/metrics.json 2>/dev/null; then
  rm -rf runs/captcha-soup4 runs/captcha-soup5
  build/release/bin/digitnet-train --task captcha --out runs/captcha-soup4 --average "$sixth_list"
fi
seventh=(--init runs/captcha-soup4/model.pt --epochs 15 --lr 0.0015 --mirror-1-7 0.5 --handwriting data/mnist
         --exclude "$eighth,$ninth")
stage runs/captcha-stage7s20 "${seventh[@]}" --seed 20
stage runs/captcha-stage7s21 "${seventh[@]}" --seed 21
if [ ! -e runs/captcha-soup5/model.pt ]; then
  build/release/bin/digitnet-train --task captcha --out runs/captcha-soup5 \
    --average runs/captcha-stage7s20/model.pt,runs/captcha-stage7s21/model.pt,runs/captcha-soup4/model.pt
fi
mkdir -p models
cp runs/captcha-soup5/model.pt models/captcha.pt
cp runs/captcha-soup5/metrics.json models/captcha-metrics.json
echo "wrote models/captcha.pt ($(du -h models/captcha.pt | cut -f1)) and models/captcha-metrics.json" >&2
