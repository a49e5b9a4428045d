#!/usr/bin/env bash
# Regenerates docs/compat.png, the README's picture of the compatibility
# table: runs `cargo xtask test-matrix --all-targets` (every installed
# target and older system), then has headless Chromium draw
# target/exitmatrix/compat.html with its filters set by the URL fragment:
# "differences only" and the Windows target (#diff&target=x86_64-pc-windows-gnu),
# which keeps the reference's waitpid column beside Windows' agent and the
# host's view, so the differing cells show in one screen.
#
#   scripts/screenshot-compat.sh            # run --all-targets, then draw
#   scripts/screenshot-compat.sh --no-run   # draw the compat.html already there
#   FRAGMENT='#diff' scripts/screenshot-compat.sh --no-run   # another view
#
# Chromium's flags are those of the test suite (suites/tests/suite/common.rs,
# CHROMIUM_FLAGS), with a fresh, empty profile directory. The picture must
# stay under 300 KB; the script fails if it does not.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=1
for arg in "$@"; do
  case "$arg" in
    --no-run) RUN=0 ;;
    *) echo "usage: $0 [--no-run]" >&2; exit 2 ;;
  esac
done
PAGE="$ROOT/target/exitmatrix/compat.html"
OUT="$ROOT/docs/compat.png"
FRAGMENT=${FRAGMENT-#diff&target=x86_64-pc-windows-gnu}
WIDTH=1400 HEIGHT=1000 LIMIT=$((300 * 1024))

if [ "$RUN" = 1 ]; then
  # The exit code says whether every cell conforms; the picture is wanted
  # either way, so only a missing page stops the script.
  (cd "$ROOT" && cargo xtask test-matrix --all-targets --format summary) || true
fi
[ -f "$PAGE" ] || { echo "no $PAGE: run without --no-run" >&2; exit 1; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "Chromium is not installed: cargo xtask install observers" >&2; exit 1; }

PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$PROFILE" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="$WIDTH,$HEIGHT" --virtual-time-budget=5000 \
  --screenshot="$OUT" "file://$PAGE$FRAGMENT" 2>/dev/null
size=$(stat -c %s "$OUT")
echo "wrote $OUT ($((size / 1024)) KB, ${WIDTH}x${HEIGHT}, $FRAGMENT)"
if [ "$size" -gt "$LIMIT" ]; then
  echo "$OUT is over 300 KB" >&2
  exit 1
fi
