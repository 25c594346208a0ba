#!/usr/bin/env bash
# Prints the figures the captcha shipping rules of bench/BENCHMARKS.md compare, for one or more
# checkpoints, as one Markdown row each: the fixed sets of data/captcha-fixed3 (one view; their
# sum), the eight website generators of data/captcha-external (three views, --length auto;
# their sum and how many reach 90%), node-captcha-generator on MNIST's training and test digits,
# and upright-web (one view). The fixed sets are drawn when missing
# (scripts/make-captcha-fixed-sets.sh); the generators' come from
# `scripts/bench-captcha-external.sh --sets-only` (count 300, seed 1), and a missing one is an
# error. --external DIR reads the generators' captchas from DIR instead (a set made with
# `scripts/bench-captcha-external.sh --sets-only --out DIR --count N --seed S`).
#   scripts/score-captcha.sh [--external DIR] CHECKPOINT...
set -euo pipefail
cd "$(dirname "$0")/.."
external=data/captcha-external
case "${1:-}" in
  ""|-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit $? ;;
  --external) external="${2:?--external needs a folder}"; shift 2 ;;
esac
[ $# -gt 0 ] || { echo "score-captcha.sh: name at least one checkpoint (see --help)" >&2; exit 2; }
eval_bin=build/release/bin/digitnet-eval
[ -x "$eval_bin" ] || { echo "score-captcha.sh: build first (cmake --build --preset release)" >&2; exit 1; }
fixed=(first all freefont perspective grid)
generators=(gregwar django-simple securityimage svg-captcha captchapng authen-captcha text-captcha simple-captcha)
for d in "${fixed[@]/#/data/captcha-fixed3/}"; do
  [ -d "$d" ] || { bash scripts/make-captcha-fixed-sets.sh; break; }
done
for d in "${generators[@]/#/$external/}" "$external/node-captcha-generator" \
  "$external/node-captcha-generator-t10k" "$external/upright-web"; do
  [ -d "$d" ] || { echo "score-captcha.sh: no $d (scripts/bench-captcha-external.sh --sets-only makes it)" >&2; exit 1; }
done

accuracy() {  # CHECKPOINT DIR FLAGS...: whole-string accuracy in percent, one decimal
  local json
  json=$("$eval_bin" --task captcha --checkpoint "$1" --data-dir "$2" --json "${@:3}" 2>/dev/null) ||
    { echo "score-captcha.sh: digitnet-eval failed on $2 with $1" >&2; exit 1; }
  /usr/bin/python3 -c 'import json, sys; print("%.1f" % (100 * json.loads(sys.argv[1])["accuracy"]))' "$json"
}

join() { local IFS='|'; echo "$*" | sed 's/|/ | /g'; }
echo "| checkpoint | $(join "${fixed[@]}") | fixed sum | $(join "${generators[@]}") | sum of 8 | at 90% | node train digits | node test digits | upright-web |"
echo "|$(printf ' --- |')$(printf ' ---: |%.0s' $(seq 19))"
for ckpt in "$@"; do
  [ -f "$ckpt" ] || { echo "score-captcha.sh: no checkpoint $ckpt" >&2; exit 1; }
  row="| $ckpt" fsum=0 gsum=0 at90=0
  for s in "${fixed[@]}"; do
    a=$(accuracy "$ckpt" "data/captcha-fixed3/$s" --views 1)
    row+=" | $a" fsum=$(awk -v s="$fsum" -v a="$a" 'BEGIN { print s + a }')
  done
  row+=" | $fsum"
  for g in "${generators[@]}"; do
    a=$(accuracy "$ckpt" "$external/$g")
    row+=" | $a" gsum=$(awk -v s="$gsum" -v a="$a" 'BEGIN { print s + a }')
    at90=$((at90 + $(awk -v a="$a" 'BEGIN { print (a >= 90) }')))
  done
  row+=" | $gsum | $at90"
  row+=" | $(accuracy "$ckpt" "$external/node-captcha-generator")"
  row+=" | $(accuracy "$ckpt" "$external/node-captcha-generator-t10k")"
  row+=" | $(accuracy "$ckpt" "$external/upright-web" --views 1) |"
  echo "$row"
done
