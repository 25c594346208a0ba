#!/usr/bin/env bash
# Prints the figures the captcha shipping rules of bench/BENCHMARKS.md compare, for one or more
# checkpoints, as one Markdown row each: the fixed sets of data/captcha-fixed3 (one view; their
# sum), the eight website generators of data/captcha-external (three views, --length auto;
# their sum and how many reach 90%), node-captcha-generator on MNIST's training and test digits,
# and upright-web (one view). The fixed sets are drawn when missing
# (scripts/make-captcha-fixed-sets.sh); the generators' come from
# `scripts/bench-captcha-external.sh --sets-only` (count 300, seed 1), and a missing one is an
# error. --external DIR reads the generators' captchas from DIR instead (a set made with
# `scripts/bench-captcha-external.sh --sets-only --out DIR --count N --seed S`); given more than
# once, each figure pools the sets' captchas (correct over read, so a set of 1,000 weighs more
# than one of 300).
#   scripts/score-captcha.sh [--external DIR]... CHECKPOINT...
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  ""|-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit $? ;;
esac
externals=()
while [ "${1:-}" = --external ]; do
  externals+=("${2:?--external needs a folder}")
  shift 2
done
[ ${#externals[@]} -gt 0 ] || externals=(data/captcha-external)
[ $# -gt 0 ] || { echo "score-captcha.sh: name at least one checkpoint (see --help)" >&2; exit 2; }
eval_bin=build/release/bin/digitnet-eval
[ -x "$eval_bin" ] || { echo "score-captcha.sh: build first (cmake --build --preset release)" >&2; exit 1; }
fixed=(first all freefont perspective grid)
generators=(gregwar django-simple securityimage svg-captcha captchapng authen-captcha text-captcha simple-captcha)
for d in "${fixed[@]/#/data/captcha-fixed3/}"; do
  [ -d "$d" ] || { bash scripts/make-captcha-fixed-sets.sh; break; }
done
for external in "${externals[@]}"; do
  for d in "${generators[@]/#/$external/}" "$external/node-captcha-generator" \
    "$external/node-captcha-generator-t10k" "$external/upright-web"; do
    [ -d "$d" ] || { echo "score-captcha.sh: no $d (scripts/bench-captcha-external.sh --sets-only makes it)" >&2; exit 1; }
  done
done

accuracy() {  # CHECKPOINT NAME FLAGS...: whole-string accuracy in percent, one decimal, over NAME
  # (a fixed set's path, or a generator's folder name in every --external set), pooled
  local ckpt="$1" name="$2" dirs=() d json correct=0 total=0 c n
  shift 2
  case "$name" in
    */*) dirs=("$name") ;;
    *) for d in "${externals[@]}"; do dirs+=("$d/$name"); done ;;
  esac
  for d in "${dirs[@]}"; do
    json=$("$eval_bin" --task captcha --checkpoint "$ckpt" --data-dir "$d" --json "$@" 2>/dev/null) ||
      { echo "score-captcha.sh: digitnet-eval failed on $d with $ckpt" >&2; exit 1; }
    read -r c n < <(/usr/bin/python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["correct"], d["captchas"])' "$json")
    correct=$((correct + c)) total=$((total + n))
  done
  awk -v c="$correct" -v n="$total" 'BEGIN { printf "%.1f\n", n ? 100 * c / n : 0 }'
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
    a=$(accuracy "$ckpt" "$g")
    row+=" | $a" gsum=$(awk -v s="$gsum" -v a="$a" 'BEGIN { print s + a }')
    at90=$((at90 + $(awk -v a="$a" 'BEGIN { print (a >= 90) }')))
  done
  row+=" | $gsum | $at90"
  row+=" | $(accuracy "$ckpt" node-captcha-generator)"
  row+=" | $(accuracy "$ckpt" node-captcha-generator-t10k)"
  row+=" | $(accuracy "$ckpt" upright-web --views 1) |"
  echo "$row"
done
