#!/usr/bin/env bash
# Build the page (release) and serve it on http://127.0.0.1:8080 (address and port: Trunk.toml),
# rebuilding on every source change. Extra arguments go to `trunk serve`, e.g. --port 8081.
#
#   bash scripts/serve.sh
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"
bash scripts/ensure-tools.sh
echo "serving on http://127.0.0.1:8080/ (Trunk.toml) once built; Ctrl-C stops"
# No live-reload script: index.html's Content-Security-Policy forbids inline scripts after it, so
# the injected one could not run anyway and would only log a CSP error. Reload by hand.
exec trunk serve --release --no-autoreload "$@"
