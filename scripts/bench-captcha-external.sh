#!/usr/bin/env bash
# Scores a captcha model on captchas of real websites' generators, none of which the training
# generator copies: Gregwar/Captcha and PEAR Text_CAPTCHA (PHP), django-simple-captcha
# (Python), GD::SecurityImage (Perl; plain, and scrambled: characters scattered one by one) and
# Authen::Captcha (Perl), svg-captcha, captchapng and node-captcha-generator (Node; handwritten
# MNIST training digits, and again drawing MNIST's test digits), simple_captcha2 (Ruby on Rails,
# through ImageMagick), each with its own fonts and defaults, digits only. Tesseract OCR (digits
# only, one text line) reads the same files as the reference. digitnet reads each folder as
# `digitnet-eval --task captcha` does by default (three views, --length auto); the columns "any
# length" and "one view only" show what settling the folder's length and the views add.
# The last row, upright-web, is no generator and not blind: plain upright numbers in Roboto, Open
# Sans, Cantarell, Lato, DejaVu and Liberation drawn by Pillow, faces the renderer draws too; it
# shows whether the plainest 1s and 7s of common web faces read right.
#   scripts/bench-captcha-external.sh [--count N] [--seed S] [--out DIR] [--checkpoint FILE]
#                                     [--no-tesseract] [--sets-only | --score-only]
# Installs the generators from Debian (apt-get, as root) and npm when missing; writes the
# captchas to DIR/<generator>/ (default data/captcha-external: 300 captchas, seed 1, the set the
# shipping rules of bench/BENCHMARKS.md choose on) and prints a table (Markdown) with the 95%
# (Wilson) interval of each whole-string accuracy. --sets-only makes the folders and stops;
# --score-only scores the folders already in DIR (made with the same --count and --seed).
set -euo pipefail
cd "$(dirname "$0")/.."

count=300 seed=1 checkpoint=models/captcha.pt tesseract=1 root=data/captcha-external sets_only=0 score_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --checkpoint) checkpoint="$2"; shift 2 ;;
    --out) root="${2:?--out needs a folder}"; shift 2 ;;
    --no-tesseract) tesseract=0; shift ;;
    --sets-only) sets_only=1 tesseract=0; shift ;;
    --score-only) score_only=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-captcha-external.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$score_only" = 1 ] && [ "$sets_only" = 1 ] && { echo "bench-captcha-external.sh: --sets-only and --score-only exclude each other" >&2; exit 2; }
[[ "$count" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "bench-captcha-external.sh: --count must be 1..99999" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]{1,9}$ ]] || { echo "bench-captcha-external.sh: --seed must be a number" >&2; exit 2; }
[ -f "$checkpoint" ] || { echo "bench-captcha-external.sh: no checkpoint $checkpoint" >&2; exit 1; }

packages=(php-cli php-gd php-mbstring php-gregwar-captcha php-text-captcha php-image-text python3-django-captcha
          libgd-securityimage-perl libauthen-captcha-perl librsvg2-bin ttf-bitstream-vera ruby-simple-captcha2
          imagemagick python3-pil)
[ "$tesseract" = 1 ] && packages+=(tesseract-ocr tesseract-ocr-eng)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench-captcha-external.sh: needs ${missing[*]} (apt-get install as root)" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
node_dir=data/captcha-external/node
node_packages=(svg-captcha@1 captchapng@0.0.1 node-captcha-generator@0.0.1)
for p in "${node_packages[@]}"; do
  if [ ! -d "$node_dir/node_modules/${p%@*}" ]; then
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-audit --no-fund --silent "${node_packages[@]}" >/dev/null
    break
  fi
done

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target digitnet-eval >/dev/null

gen=scripts/external-captchas
mkdir -p "$root"
make_set() {  # name command...: a fresh folder of COUNT captchas (with --score-only: one present)
  local name="$1"; shift
  if [ "$score_only" = 1 ]; then
    [ -d "$root/$name" ] || { echo "bench-captcha-external.sh: no $root/$name to score (run without --score-only)" >&2; exit 1; }
    return 0
  fi
  rm -rf "${root:?}/$name"
  "$@" || { echo "bench-captcha-external.sh: the $name generator failed" >&2; exit 1; }
}
make_set gregwar php -d include_path=/usr/share/php "$gen/gregwar.php" "$count" "$root/gregwar" "$seed"
make_set django-simple /usr/bin/python3 "$gen/django_simple.py" "$count" "$root/django-simple" "$seed"
vera=/usr/share/fonts/truetype/ttf-bitstream-vera/VeraBd.ttf
make_set securityimage perl "$gen/securityimage.pl" "$count" "$root/securityimage" "$seed" "$vera" 0
make_set securityimage-scrambled perl "$gen/securityimage.pl" "$count" "$root/securityimage-scrambled" "$seed" "$vera" 1
make_set authen-captcha perl "$gen/authen_captcha.pl" "$count" "$root/authen-captcha" "$seed"
make_set text-captcha php -d include_path=/usr/share/php "$gen/text_captcha.php" "$count" "$root/text-captcha" "$seed" \
  /usr/share/fonts/truetype/ttf-bitstream-vera/VeraMono.ttf
make_set svg-captcha env NODE_PATH="$node_dir/node_modules" node "$gen/svg_captcha.js" "$count" \
  "$root/svg-captcha" "$seed"
make_set captchapng env NODE_PATH="$node_dir/node_modules" node "$gen/captchapng.js" "$count" "$root/captchapng" "$seed"
make_set node-captcha-generator env NODE_PATH="$node_dir/node_modules" node "$gen/node_captcha_generator.js" "$count" \
  "$root/node-captcha-generator" "$seed"
# The same generator drawing MNIST's official test digits, which no model here trains on.
[ "$score_only" = 1 ] || bash scripts/get-data.sh >&2
make_set node-captcha-generator-t10k env DIGITS_FROM=data/mnist NODE_PATH="$node_dir/node_modules" node \
  "$gen/node_captcha_generator.js" "$count" "$root/node-captcha-generator-t10k" "$seed"
make_set simple-captcha ruby "$gen/simple_captcha.rb" "$count" "$root/simple-captcha" "$seed"
make_set upright-web /usr/bin/python3 "$gen/upright_fonts.py" "$count" "$root/upright-web" "$seed"
for f in "$root"/svg-captcha/*.svg; do
  [ -e "$f" ] || continue
  rsvg-convert -b white "$f" -o "${f%.svg}.png" && rm "$f"
done
[ "$sets_only" = 1 ] && exit 0

# Tesseract's whole-string accuracy on a folder of <index>_<digits>.<ext> files, one
# single-threaded Tesseract per core.
tesseract_accuracy() {
  find "$1" -maxdepth 1 -name '*_*.*' ! -name '*.csv' -print0 | OMP_THREAD_LIMIT=1 xargs -0 -r -P "$(nproc)" -n 1 sh -c '
    truth="${1##*_}"; truth="${truth%.*}"
    read=$(tesseract "$1" stdout --psm 7 -c tessedit_char_whitelist=0123456789 2>/dev/null | tr -cd 0-9)
    [ "$read" = "$truth" ] && echo 1 || echo 0' sh |
    awk '{ r += $1; t++ } END { printf "%.1f%%", t ? 100 * r / t : 0 }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| generator | captchas | digitnet whole-string | 95% interval | digitnet characters | wrong length | length settled (read again) | any length | one view only | tesseract whole-string |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in gregwar django-simple securityimage securityimage-scrambled svg-captcha captchapng authen-captcha \
  text-captcha simple-captcha node-captcha-generator node-captcha-generator-t10k upright-web; do
  # Each reading's JSON goes to a file: with every mistake listed it can outgrow an argument.
  eval_json() {  # FILE FLAGS...
    build/release/bin/digitnet-eval --task captcha --checkpoint "$checkpoint" --data-dir "$root/$name" \
      --json "${@:2}" >"$1" 2>/dev/null && [ -s "$1" ] ||
      { echo "bench-captcha-external.sh: digitnet-eval failed on $root/$name" >&2; exit 1; }
  }
  eval_json "$tmp/all.json"
  eval_json "$tmp/any.json" --length any
  eval_json "$tmp/one.json" --views 1
  tess="skipped"
  [ "$tesseract" = 1 ] && tess=$(tesseract_accuracy "$root/$name")
  /usr/bin/python3 -c '
import json, math, sys
d, any, one = (json.load(open(f)) for f in sys.argv[1:4])
n, p, z = d["captchas"], d["accuracy"], 1.96  # Wilson score interval
mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
print("| %s | %d | %.1f%% | %.1f-%.1f%% | %.1f%% | %d | %s (%d) | %.1f%% | %.1f%% | %s |" % (sys.argv[4], n,
      100 * p, 100 * (mid - half), 100 * (mid + half), 100 * d["char_accuracy"], d["wrong_length"], d["settled_length"], d["reread"],
      100 * any["accuracy"], 100 * one["accuracy"], sys.argv[5]))' "$tmp/all.json" "$tmp/any.json" "$tmp/one.json" "$name" "$tess"
done
