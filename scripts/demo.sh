#!/usr/bin/env bash
# The main job end to end on a bare Debian 12: install, build, get MNIST, train, evaluate,
# and show the tutorial's first network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
bin=build/release/bin

echo
echo "== 1. The tutorial's XOR perceptron: train, show predictions and weights, check by hand"
"$bin/digitnet-xor"
echo
echo "== 2. How often does XOR training succeed? 1000 seeded runs per hidden size"
"$bin/digitnet-xor" --trials 1000 --hidden 2,4,6

echo
echo "== 3. MNIST: fetch the data, train the CNN with the defaults, evaluate it"
bash scripts/get-data.sh
rm -rf runs/demo
"$bin/digitnet-train" --out runs/demo
"$bin/digitnet-eval" --checkpoint runs/demo/model.pt --mistakes runs/demo/mistakes.png
echo "(curves: runs/demo/curves.png, worst mistakes: runs/demo/mistakes.png)"

echo
echo "== 4. Reading handwritten numbers in generated camera scenes of digits the reader never saw"
"$bin/digitnet-bench-read-vision" --scenes 20

echo
echo "== 5. Numeric captchas: generate a few, read them back"
rm -rf runs/demo/captchas
"$bin/digitnet-captcha-gen" --count 5 --seed 1 --out runs/demo/captchas
"$bin/digitnet-read" --captcha runs/demo/captchas
