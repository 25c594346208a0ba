#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a Python LibTorch (no OpenCV needed): builds the core
# against that LibTorch, trains 2 epochs on cuda and on cpu on an already fetched data folder,
# and prints images/s for both and the test accuracy.
#   scripts/gpu-check.sh [DATA_DIR]      (default data/mnist; copy it there, it is git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/mnist}
[ -d "$data" ] || { echo "gpu-check.sh: $data not found (run scripts/get-data.sh first and bring it along)" >&2; exit 1; }
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
echo "LibTorch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())')"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true

build=build/gpu
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DDIGITNET_WITH_OPENCV=OFF -DDIGITNET_BUILD_TESTS=OFF -DDIGITNET_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target digitnet-train digitnet-eval digitnet-xor

# The IDX files uncompressed, so a build without zlib reads them too.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mnist"
for f in "$data"/*-ubyte*; do
  case "$f" in
    *.gz) gunzip -c "$f" >"$tmp/mnist/$(basename "${f%.gz}")" ;;
    *) cp "$f" "$tmp/mnist/" ;;
  esac
done

for device in cuda cpu; do
  echo "== $device: digitnet-train --epochs 2"
  "$build/bin/digitnet-train" --device "$device" --epochs 2 --data-dir "$tmp/mnist" --out "$tmp/run-$device" --json \
    >"$tmp/$device.json"
  python3 - "$tmp/$device.json" "$device" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rates = [e["samples_per_s"] for e in r["history"]]
print(f"{sys.argv[2]}: {max(rates):.0f} images/s (best epoch), test accuracy {100*r['accuracy']:.2f}% after {r['epochs']} epochs, {r['seconds']:.1f} s")
PY
  "$build/bin/digitnet-eval" --device "$device" --checkpoint "$tmp/run-$device/model.pt" --data-dir "$tmp/mnist" | sed -n '3,5p'
done
echo "== xor trials on cuda"
"$build/bin/digitnet-xor" --device cuda --trials 1000 --hidden 2,4,6 | tail -n 5
