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
# No live-reload script: Trunk would inject it inline, which the page's Content-Security-Policy
# blocks (script-src 'self') and scripts/externalize-bootstrap.py (post_build hook) refuses.
# Reload the browser by hand after a rebuild.
exec trunk serve --release --no-autoreload "$@"
