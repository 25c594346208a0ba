#!/usr/bin/env bash
# Builds the release preset and runs every benchmark, each printing its figures and its ratio
# to a reference measured in the same run. Results belong in bench/BENCHMARKS.md.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh xor        only those whose name contains "xor"
# captcha-external (scripts/bench-captcha-external.sh) scores the captcha model on real websites'
# captcha generators, which it installs from apt and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
filter=${1:-}
echo "digitnet benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
for b in build/release/bin/digitnet-bench-*; do
  name=${b##*/digitnet-bench-}
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  if [ -x "scripts/bench-$name.sh" ]; then
    echo "== $name (scripts/bench-$name.sh)"
    bash "scripts/bench-$name.sh"
  else
    echo "== $name"
    "$b"
  fi
done
if [ -z "$filter" ] || [[ "captcha-external" == *"$filter"* ]]; then
  echo "== captcha-external (scripts/bench-captcha-external.sh)"
  bash scripts/bench-captcha-external.sh
fi
