#!/usr/bin/env bash
# The main job end to end on a bare Debian 12: install, build, then show what digitnet does.
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
