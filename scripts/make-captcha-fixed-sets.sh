#!/usr/bin/env bash
# Draws the five fixed captcha sets the shipping rules of bench/BENCHMARKS.md read with one view
# (scripts/score-captcha.sh): first-stage styles (1,000), all styles of the sixth stage (1,000),
# and 300 each of the three held-out families (freefont, perspective, grid), 160x60, 4-8 digits,
# `--mirror-1-7 0.5`. The families added later are excluded, so the sets stay as first drawn,
# pixel for pixel (the shipped model reads 73.6 / 49.8 / 81.3 / 76.0 / 37.0% on them).
#   scripts/make-captcha-fixed-sets.sh [DIR]     (default data/captcha-fixed3)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
out=${1:-data/captcha-fixed3}
gen=build/release/bin/digitnet-captcha-gen
[ -x "$gen" ] || { echo "make-captcha-fixed-sets.sh: build first (cmake --build --preset release)" >&2; exit 1; }

held=freefont,grid,perspective
new=shadow,elastic,particles,rings,binary,extra           # the second stage's families
later=framing,more,weight,implode                          # the third to fifth stages'
after=zeros,dotted,flags,tilt,scatter,scribble,circles,erase,strikes  # added after these sets
draw() {  # NAME COUNT SEED FLAGS...
  rm -rf "${out:?}/$1"
  "$gen" --count "$2" --seed "$3" --mirror-1-7 0.5 --out "$out/$1" "${@:4}" >/dev/null
}
draw first 1000 101 --exclude "$held,$new,$later,$after"
draw all 1000 102 --exclude "$held,$later,$after"
draw freefont 300 103 --require freefont --exclude "grid,perspective,$new,$later,$after"
draw perspective 300 103 --require perspective --exclude "freefont,grid,$new,$later,$after"
draw grid 300 103 --require grid --exclude "freefont,perspective,$new,$later,$after"
echo "make-captcha-fixed-sets.sh: wrote $out/{first,all,freefont,perspective,grid}" >&2
