#!/usr/bin/env bash
# Install whatever the build needs and is missing; do nothing when everything is present.
#
#   bash scripts/ensure-tools.sh            # Rust wasm target, trunk, wasm-bindgen-cli, wasm-opt, playwright-core
#   bash scripts/ensure-tools.sh --browser  # also Chromium and chromedriver (Debian packages)
#
# Always: Debian's haproxy, nginx, keepalived and mariadb-server, which the native test
# tests/real_haproxy.rs runs (config checks, and real HAProxy against the model), and nftables
# and iproute2 for tests/real_keepalived.rs (network namespaces, a VRRP cut), and bind9-utils
# (named-checkzone) for the exported DNS zone.
#
# Safe to run again and again, and non-interactively (CI=true, no stdin). Afterwards,
# `source scripts/env.sh` puts the tools on PATH.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "ensure-tools: unknown argument '$arg' (allowed: --browser)" >&2
      exit 2
      ;;
  esac
done

did=()
say() { echo "tools: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "ensure-tools: '$1' is required but not installed" >&2; exit 1; }; }

need cargo
need rustup

# 1. The Rust target for the browser build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
  did+=("wasm32 target")
fi

# 2. Trunk, exact version (0.22 needs a newer rustc).
trunk_have="$(trunk --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$trunk_have" != "$TRUNK_VERSION" ]]; then
  say "installing trunk $TRUNK_VERSION (found '${trunk_have:-none}'; takes ~10 min on 2 cores)"
  cargo install trunk --version "=$TRUNK_VERSION" --locked --force
  did+=("trunk $TRUNK_VERSION")
fi

# 3. wasm-bindgen-cli, the same version as the wasm-bindgen crate in Cargo.lock.
wbg_want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$REPO_ROOT/Cargo.lock")"
if [[ -z "$wbg_want" ]]; then
  echo "ensure-tools: no wasm-bindgen package in $REPO_ROOT/Cargo.lock" >&2
  exit 1
fi
wbg_have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
runner_have="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$wbg_have" != "$wbg_want" || "$runner_have" != "$wbg_want" ]]; then
  say "installing wasm-bindgen-cli $wbg_want (found '${wbg_have:-none}'; takes ~4 min)"
  # No --locked: the registry lacks one dependency of the published lock file.
  cargo install wasm-bindgen-cli --version "=$wbg_want" --force
  did+=("wasm-bindgen-cli $wbg_want")
fi

# 4. wasm-opt (npm binaryen) and playwright-core in a private npm prefix.
npm_pkg_version() { # print the installed version of npm package $1 in $INFRASIM_TOOLS, or nothing
  local f="$INFRASIM_TOOLS/node_modules/$1/package.json"
  [[ -f "$f" ]] && node -p "require(process.argv[1]).version" "$f" 2>/dev/null || true
}
npm_want=()
[[ "$(npm_pkg_version binaryen)" == "$BINARYEN_VERSION" && -x "$INFRASIM_TOOLS/node_modules/.bin/wasm-opt" ]] ||
  npm_want+=("binaryen@$BINARYEN_VERSION")
[[ -n "$(npm_pkg_version playwright-core)" ]] || npm_want+=("$PLAYWRIGHT_CORE_SPEC")
if ((${#npm_want[@]})); then
  need node
  need npm
  say "installing ${npm_want[*]} into $INFRASIM_TOOLS"
  mkdir -p "$INFRASIM_TOOLS"
  [[ -f "$INFRASIM_TOOLS/package.json" ]] || echo '{ "private": true }' >"$INFRASIM_TOOLS/package.json"
  npm install --prefix "$INFRASIM_TOOLS" --no-audit --no-fund --loglevel=error "${npm_want[@]}" </dev/null
  did+=("${npm_want[@]}")
fi

# 5. Optionally the browser for the wasm tests and screenshots.
if ((browser)) && [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  say "installing Debian chromium and chromium-driver"
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    need sudo
    sudo="sudo -n"
  fi
  $sudo apt-get update -q </dev/null
  $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver </dev/null
  did+=("chromium")
fi

# 6. The real programs the exported configuration files are checked with (tests/real_haproxy.rs).
real_missing=()
for pair in haproxy:haproxy nginx:nginx keepalived:keepalived mariadbd:mariadb-server openssl:openssl python3:python3 nft:nftables ip:iproute2 named-checkzone:bind9-utils; do
  [[ -x "/usr/sbin/${pair%%:*}" ]] || command -v "${pair%%:*}" >/dev/null 2>&1 || real_missing+=("${pair#*:}")
done
if ((${#real_missing[@]})); then
  say "installing Debian ${real_missing[*]}"
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    need sudo
    sudo="sudo -n"
  fi
  # The packages' install scripts would start the services on their default ports: forbid it
  # for the duration (Debian's policy-rc.d convention), unless a policy is already in place.
  policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  $sudo apt-get update -q </dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${real_missing[@]}" </dev/null
  did+=("${real_missing[@]}")
fi

# Check what the build relies on, whichever way it got here.
[[ "$(wasm-opt --version 2>/dev/null)" == *"version ${BINARYEN_VERSION%%.*}"* ]] || {
  echo "ensure-tools: wasm-opt on PATH is not binaryen ${BINARYEN_VERSION%%.*}: $(command -v wasm-opt || echo none)" >&2
  exit 1
}

if ((${#did[@]})); then
  say "installed ${did[*]}"
else
  say "all present"
fi
