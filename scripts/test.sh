#!/usr/bin/env bash
# Installs what is missing, then configures, builds and runs the whole test suite twice:
# in Release and under AddressSanitizer + UndefinedBehaviorSanitizer. The last line is
# ctest's summary over both runs.
#   scripts/test.sh                 both presets
#   PRESETS="release" scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=$(nproc)
passed=0
failed=0
total=0
status=0
for preset in ${PRESETS:-release asan}; do
  echo "== $preset: configure and build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: ctest" >&2
  log=$(mktemp)
  if ! ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log"; then status=1; fi
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  rm -f "$log"
  if [ -z "$summary" ]; then
    echo "== $preset: ctest printed no summary" >&2
    status=1
    continue
  fi
  f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  n=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$summary")
  failed=$((failed + f))
  total=$((total + n))
  passed=$((passed + n - f))
  [ "$f" -eq 0 ] || status=1
done
pct=0
[ "$total" -gt 0 ] && pct=$((100 * passed / total))
echo "${pct}% tests passed, ${failed} tests failed out of ${total}"
exit "$status"
