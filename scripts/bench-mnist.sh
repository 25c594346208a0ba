#!/usr/bin/env bash
# MNIST benchmarks (bench/bench_mnist.cpp) plus the peak memory of digitnet-train and
# digitnet-eval measured with GNU time. Needs data/mnist (scripts/get-data.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin
data=${DATA_DIR:-data/mnist}
[ -d "$data" ] || bash scripts/get-data.sh >&2
"$bin/digitnet-bench-mnist" --data-dir "$data" "$@"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ {printf "%.0f MiB", $6 / 1024}'; }
echo
echo "4. peak memory (GNU time, maximum resident set size)"
echo "   digitnet-train, 2 epochs: $(peak "$bin/digitnet-train" --epochs 2 --data-dir "$data" --out "$tmp/run") (target < 1024 MiB)"
echo "   digitnet-eval:            $(peak "$bin/digitnet-eval" --checkpoint "$tmp/run/model.pt" --data-dir "$data") (target < 512 MiB)"
