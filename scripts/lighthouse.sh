#!/usr/bin/env bash
# Lighthouse audit of the built page (accessibility, best practices, performance, SEO).
#
#   bash scripts/lighthouse.sh [DIST_DIR]     # default: dist/ (run `trunk build --release` first)
#
# Serves DIST_DIR on 127.0.0.1 with python3's http.server, runs npm lighthouse@13 (installed
# into $INFRASIM_TOOLS if missing) with Debian's Chromium, writes the JSON report to
# $LIGHTHOUSE_OUT (default: a temp file) and prints one line per category:
#   LIGHTHOUSE accessibility=100 best-practices=100 performance=97 seo=100
# Exits 1 when accessibility or best practices score under 95.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

dist="${1:-dist}"
[[ -f "$dist/index.html" ]] || { echo "no $dist/index.html: run trunk build --release first" >&2; exit 2; }
lighthouse="$INFRASIM_TOOLS/node_modules/.bin/lighthouse"
if [[ ! -x "$lighthouse" ]]; then
  mkdir -p "$INFRASIM_TOOLS"
  npm install --prefix "$INFRASIM_TOOLS" --no-audit --no-fund lighthouse@13 >&2
fi
chrome="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chrome" ]] || { echo "$chrome not found: run bash scripts/ensure-tools.sh --browser" >&2; exit 2; }

# A free port, then a static server for the page.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
python3 -m http.server --bind 127.0.0.1 --directory "$dist" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
  sleep 0.1
done

out="${LIGHTHOUSE_OUT:-$(mktemp --suffix=.json)}"
CHROME_PATH="$chrome" "$lighthouse" "http://127.0.0.1:$port/" \
  --quiet --output=json --output-path="$out" \
  --only-categories=accessibility,best-practices,performance,seo \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"

node - "$out" <<'JS'
const report = require(process.argv[2]);
const cats = report.categories;
const score = (k) => (cats[k] && cats[k].score !== null ? Math.round(cats[k].score * 100) : 'n/a');
console.log(`LIGHTHOUSE accessibility=${score('accessibility')} best-practices=${score('best-practices')} performance=${score('performance')} seo=${score('seo')}`);
for (const [key, cat] of Object.entries(cats)) {
  for (const ref of cat.auditRefs) {
    const a = report.audits[ref.id];
    if (ref.weight > 0 && a.score !== null && a.score < 1) console.log(`  ${key}: ${a.id}: ${a.title}`);
  }
}
const low = ['accessibility', 'best-practices'].filter((k) => typeof score(k) === 'number' && score(k) < 95);
if (low.length) {
  console.error(`below 95: ${low.join(', ')}`);
  process.exit(1);
}
JS
echo "report: $out"
