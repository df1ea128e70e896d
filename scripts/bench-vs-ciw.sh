#!/usr/bin/env bash
# Simulated requests per wall-clock second: infrasim (native, optionally in the browser) against
# Ciw 3.2.7 (a Python discrete-event queueing library), on the same workload in the same run:
#
#   M/M/2 — one node, 2 servers, exponential arrivals λ = 150/s, exponential service μ = 100/s
#   per server, one shared FIFO queue. Both count completed requests and time the run only.
#
#   bash scripts/bench-vs-ciw.sh [--requests N] [--ciw-customers N] [--repeat N]
#                                [--browser | --browser-figure X]
#
#   --requests N         requests simulated by `infrasim bench` (default 5000000)
#   --ciw-customers N    customers simulated by Ciw (default 200000; Ciw is much slower)
#   --repeat N           run each native and Ciw measurement N times, alternating, and compare
#                        the medians (default 3): one run on a shared machine can be 20 % off
#   --browser            also run tests/browser_bench.rs in headless Chromium and use its figure
#   --browser-figure X   use X (requests per wall second measured in a browser) for the ratio
#
# Ciw is installed with pip into a virtualenv under $INFRASIM_TOOLS when missing.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

CIW_VERSION="3.2.7"
requests=5000000
ciw_customers=200000
repeat=3
browser=0
browser_figure=""
while (($#)); do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --ciw-customers) ciw_customers="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --browser) browser=1; shift ;;
    --browser-figure) browser_figure="$2"; shift 2 ;;
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-vs-ciw: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ "$requests" =~ ^[1-9][0-9]*$ && "$ciw_customers" =~ ^[1-9][0-9]*$ && "$repeat" =~ ^[1-9][0-9]*$ ]] ||
  { echo "bench-vs-ciw: --requests, --ciw-customers and --repeat take positive integers" >&2; exit 2; }

# --- Ciw in its own virtualenv (the system Python may refuse pip installs) ---------------------
venv="$INFRASIM_TOOLS/ciw-venv"
py="$venv/bin/python"
if ! [[ -x "$py" ]] || [[ "$("$py" -c 'import ciw; print(ciw.__version__)' 2>/dev/null)" != "$CIW_VERSION" ]]; then
  echo "bench: installing ciw==$CIW_VERSION into $venv"
  mkdir -p "$INFRASIM_TOOLS"
  python3 -m venv "$venv" || { echo "bench: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$py" -m pip install --quiet --disable-pip-version-check "ciw==$CIW_VERSION" </dev/null
fi

# --- infrasim native and Ciw, alternating ----------------------------------------------------------
ciw_program="$(mktemp)"
trap 'rm -f "$ciw_program"' EXIT
cat >"$ciw_program" <<'PY'
import json, sys, time
import ciw

customers = int(sys.argv[1])
lam, mu, servers = 150.0, 100.0, 2
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential(rate=lam)],
    service_distributions=[ciw.dists.Exponential(rate=mu)],
    number_of_servers=[servers],
)
ciw.seed(1)
sim = ciw.Simulation(network)
start = time.perf_counter()
sim.simulate_until_max_time(customers / lam)
wall = time.perf_counter() - start
done = len(sim.get_all_records())
mean_wait = sum(r.waiting_time for r in sim.get_all_records()) / max(done, 1)
print(json.dumps({"workload": "M/M/2 lambda=150/s mu=100/s", "requests": done, "wall_s": round(wall, 3),
                  "requests_per_wall_s": round(done / wall), "mean_wait_ms": round(mean_wait * 1000, 3)}))
PY
cargo build --quiet --release
figure() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests_per_wall_s"])' "$1"; }
natives=()
ciws=()
for ((k = 1; k <= repeat; k++)); do
  echo "bench: run $k of $repeat: infrasim native, $requests requests (infrasim bench)"
  native_json="$(cargo run --quiet --release -- bench --requests "$requests" | tail -n 1)"
  echo "  $native_json"
  natives+=("$(figure "$native_json")")
  echo "bench: run $k of $repeat: Ciw $CIW_VERSION, ~$ciw_customers customers"
  ciw_json="$("$py" "$ciw_program" "$ciw_customers")"
  echo "  $ciw_json"
  ciws+=("$(figure "$ciw_json")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
native="$(median "${natives[@]}")"
ciw="$(median "${ciws[@]}")"
echo "bench: medians of $repeat: native $native, Ciw $ciw (native runs: ${natives[*]}; Ciw runs: ${ciws[*]})"

# --- infrasim, browser (optional) ----------------------------------------------------------------
if ((browser)) && [[ -z "$browser_figure" ]]; then
  echo "bench: infrasim in headless Chromium (tests/browser_bench.rs)"
  bash scripts/ensure-tools.sh --browser
  line="$(cargo test --release --target wasm32-unknown-unknown --test browser_bench -- --nocapture 2>&1 |
    grep '^BENCH browser' | tail -n 1 || true)"
  [[ -n "$line" ]] || { echo "bench: the browser benchmark printed no BENCH line" >&2; exit 1; }
  echo "  $line"
  browser_figure="$(sed -E 's/.*requests_per_wall_s=([0-9.]+).*/\1/' <<<"$line")"
fi

# --- summary -------------------------------------------------------------------------------------
python3 - "$native" "$ciw" "$browser_figure" <<'PY'
import sys
native, ciw = float(sys.argv[1]), float(sys.argv[2])
browser = float(sys.argv[3]) if sys.argv[3] else None
print()
print(f"{'simulator':<22} {'requests/wall s':>16} {'vs Ciw':>9}")
print(f"{'infrasim native':<22} {native:>16,.0f} {native / ciw:>8.1f}x")
if browser is not None:
    print(f"{'infrasim browser':<22} {browser:>16,.0f} {browser / ciw:>8.1f}x")
print(f"{'Ciw 3.2.7 (Python)':<22} {ciw:>16,.0f} {1:>8.1f}x")
if browser is not None:
    print(f"browser / native: {browser / native:.2f}")
PY
