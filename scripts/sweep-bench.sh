#!/usr/bin/env bash
# Wall time of one `infrasim sweep` with --jobs 1 and with --jobs 2, and their ratio: the issue's
# target is at most 0.65 on a 2-core machine. A benchmark that prints figures, not a timed test.
#
#   bash scripts/sweep-bench.sh [--repeat N]
#
#   --repeat N   time each of the two N times, alternating, and compare the medians (default 3):
#                on a shared machine one run can be well off
#
# The sweep: queue-lab, 8 loads × 3 algorithms = 24 cells, 4 seeds each, 2000 simulated s
# (about 21 million requests). Built with the release profile first. Honours CARGO_TARGET_DIR.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

repeat=3
while (($#)); do
  case "$1" in
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/infrasim"

sweep=(sweep --preset queue-lab --set balancer.random_draws=1
  --vary traffic.arrival_rate_per_s=40..180:20 --vary balancer.algorithm=random,roundrobin,leastconn
  --seeds 4 --duration-s 2000 --csv)

# Seconds one sweep with --jobs $1 takes (its output is thrown away; progress lines too).
wall_s() {
  local start end
  start=$(date +%s.%N)
  INFRASIM_PROGRESS_S=86400 "$bin" "${sweep[@]}" --jobs "$1" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

one=()
two=()
for ((i = 1; i <= repeat; i++)); do
  one+=("$(wall_s 1)")
  two+=("$(wall_s 2)")
  printf 'run %d: --jobs 1 %.2f s, --jobs 2 %.2f s\n' "$i" "${one[-1]}" "${two[-1]}"
done
m1=$(median "${one[@]}")
m2=$(median "${two[@]}")
printf 'BENCH sweep: cores %s, --jobs 1 %.2f s, --jobs 2 %.2f s (medians of %d), ratio %.3f (target <= 0.65)\n' \
  "$(nproc)" "$m1" "$m2" "$repeat" "$(echo "$m2 / $m1" | bc -l)"
