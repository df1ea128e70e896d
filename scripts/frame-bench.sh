#!/usr/bin/env bash
# Frame time of the page at 10 000 requests/s in headless Chromium: model step + drawing per
# animation frame, median and 95th percentile over ~300 frames.
#
#   bash scripts/frame-bench.sh        # prints: FRAME median_ms=… p95_ms=… frames=… …
#
# Runs the `frame_time_at_10000_requests_per_second` browser test (tests/browser_dashboard.rs),
# which mounts the real page, sets 10 000 requests/s and times its requestAnimationFrame loop.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --target wasm32-unknown-unknown --test browser_dashboard -- --nocapture frame_time 2>&1 | tee "$log" >/dev/null
grep '^FRAME' "$log" || { echo "the frame benchmark printed no FRAME line" >&2; tail -30 "$log" >&2; exit 1; }
