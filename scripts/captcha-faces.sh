#!/usr/bin/env bash
# How a captcha model reads the renderer's own captchas drawn in one face at a time: for each
# face, COUNT captchas of 4-6 digits from digitnet-captcha-gen with only that face in its
# --font-dir, read with one view. Plain by default (solid paper, filled ink, no warp, noise,
# glyph or finish family: the per-character turn, scale and offset stay); --styled draws every
# family of the renderer instead. Turns go up to 28 degrees either way, so some 1s lean into a
# 7's shape and some 7s into a 1's; --mirror-1-7 1 turns those the other way (digitnet-captcha-
# gen --mirror-1-7), leaving only 1s and 7s that a person reads as such. Prints a Markdown row
# per face and checkpoint: whole-string accuracy, the share of 1s read as 7 and of 7s read as 1
# (at the right length), other digit mistakes. The faces are those of the upright-web benchmark
# set (scripts/external-captchas/upright_fonts.py) unless --all (every face the renderer draws)
# or --face FILE arguments name them.
#   scripts/captcha-faces.sh [--count N] [--seed S] [--styled] [--mirror-1-7 P]
#                            [--all | --face FILE]... [CHECKPOINT...]   (default models/captcha.pt)
set -euo pipefail
cd "$(dirname "$0")/.."

count=500 seed=7 mirror=0 styled=0 all=0 faces=() checkpoints=()
while [ $# -gt 0 ]; do
  case "$1" in
    --count|--seed|--mirror-1-7|--face)
      [ $# -ge 2 ] || { echo "captcha-faces.sh: $1 needs a value (see --help)" >&2; exit 2; } ;;
  esac
  case "$1" in
    --count) count="${2:-}"; shift 2 ;;
    --seed) seed="${2:-}"; shift 2 ;;
    --styled) styled=1; shift ;;
    --mirror-1-7) mirror="${2:-}"; shift 2 ;;
    --all) all=1; shift ;;
    --face) faces+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "captcha-faces.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) checkpoints+=("$1"); shift ;;
  esac
done
[[ "$count" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "captcha-faces.sh: --count must be 1..999999" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]{1,9}$ ]] || { echo "captcha-faces.sh: --seed must be a number" >&2; exit 2; }
[[ "$mirror" =~ ^(0(\.[0-9]+)?|1(\.0*)?)$ ]] || { echo "captcha-faces.sh: --mirror-1-7 must be a share within 0..1" >&2; exit 2; }
[ ${#checkpoints[@]} -gt 0 ] || checkpoints=(models/captcha.pt)
for c in "${checkpoints[@]}"; do
  [ -f "$c" ] || { echo "captcha-faces.sh: no checkpoint $c" >&2; exit 1; }
done

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-captcha-gen digitnet-eval >/dev/null
gen=build/release/bin/digitnet-captcha-gen
eval_bin=build/release/bin/digitnet-eval
fonts=/usr/share/fonts

# FAMILY<tab>FILE<tab>FOOT of every face the renderer finds, the ttf-other ones included.
known=$("$gen" --list-fonts)
[ -n "$known" ] || { echo "captcha-faces.sh: the renderer finds no TrueType face under $fonts (run scripts/setup.sh)" >&2; exit 1; }
if [ "$all" = 1 ]; then
  mapfile -t faces < <(cut -f2 <<<"$known")
elif [ ${#faces[@]} -eq 0 ]; then
  mapfile -t faces < <(/usr/bin/python3 -c '
import sys
sys.path.insert(0, "scripts/external-captchas")
import upright_fonts
print("\n".join("/usr/share/fonts/" + f for f in upright_fonts.FACES))')
fi

# Plain: every family of the glyph, warp, noise and finish categories left out, and only solid
# paper and filled ink.
plain=$("$gen" --list-families | awk '($1 == "glyph" || $1 == "warp" || $1 == "noise" || $1 == "finish") ||
  ($1 == "background" && $2 != "solid") || ($1 == "ink" && $2 != "fill") { printf "%s%s", sep, $2; sep = "," }')

families=()
for i in "${!faces[@]}"; do
  faces[i]=$(realpath -m "${faces[i]}")
  families[i]=$(awk -F'\t' -v f="${faces[i]}" '$2 == f { print $1; exit }' <<<"$known")
  [ -n "${families[i]}" ] ||
    { echo "captcha-faces.sh: ${faces[i]} is not a face the renderer draws (see digitnet-captcha-gen --list-fonts)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| face | family | checkpoint | captchas | whole-string | 1s read as 7 | 7s read as 1 | other digits wrong |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
for i in "${!faces[@]}"; do
  face=${faces[i]} family=${families[i]}
  # The face alone, at its path below $fonts: its family goes by that path.
  rel=${face#"$fonts"/}
  rm -rf "$tmp/fonts" "$tmp/set"
  mkdir -p "$tmp/fonts/$(dirname "$rel")"
  ln -s "$face" "$tmp/fonts/$rel"
  flags=(--require "$family")
  [ "$styled" = 1 ] || flags=(--require "$family,solid,fill" --exclude "$plain")
  [ "$family" = ttf-other ] && flags+=(--other-fonts)
  "$gen" --count "$count" --seed "$seed" --mirror-1-7 "$mirror" --length 4-6 --font-dir "$tmp/fonts" "${flags[@]}" --out "$tmp/set" 2>/dev/null ||
    { echo "captcha-faces.sh: digitnet-captcha-gen failed on $face" >&2; exit 1; }
  for c in "${checkpoints[@]}"; do
    "$eval_bin" --task captcha --checkpoint "$c" --data-dir "$tmp/set" --views 1 --json >"$tmp/read.json" 2>/dev/null ||
      { echo "captcha-faces.sh: digitnet-eval failed on $face with $c" >&2; exit 1; }
    /usr/bin/python3 -c '
import csv, json, sys
read, labels, face, family, checkpoint = sys.argv[1:6]
d = json.load(open(read))
digits = [row["digits"] for row in csv.DictReader(open(labels))]
ones, sevens = sum(t.count("1") for t in digits), sum(t.count("7") for t in digits)
one7 = seven1 = other = 0
for m in d["mistakes"]:
    if len(m["truth"]) != len(m["read"]):
        continue
    for t, r in zip(m["truth"], m["read"]):
        one7 += t == "1" and r == "7"
        seven1 += t == "7" and r == "1"
        other += t != r and not (t + r in ("17", "71"))
share = lambda k, n: "%d of %d (%.0f%%)" % (k, n, 100.0 * k / n) if n else "none drawn"
print("| %s | %s | %s | %d | %.1f%% | %s | %s | %d |" % (face.rsplit("/", 1)[-1], family, checkpoint, d["captchas"],
      100 * d["accuracy"], share(one7, ones), share(seven1, sevens), other))' \
      "$tmp/read.json" "$tmp/set/labels.csv" "$face" "$family" "$c"
  done
done
