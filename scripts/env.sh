# shellcheck shell=bash
# Sourced by the other scripts (not run on its own): puts the project's tools first on PATH.
#
#   INFRASIM_TOOLS  npm prefix holding binaryen (wasm-opt) and playwright-core
#                   (default: $HOME/.cache/infrasim-tools)
#   REPO_ROOT       the checkout these scripts belong to

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRASIM_TOOLS="${INFRASIM_TOOLS:-$HOME/.cache/infrasim-tools}"
export REPO_ROOT INFRASIM_TOOLS

# Pinned versions. wasm-bindgen-cli is not listed here: it must equal the wasm-bindgen crate in
# Cargo.lock, and scripts/ensure-tools.sh reads it from there.
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132.0.0"
PLAYWRIGHT_CORE_SPEC="playwright-core@1"
export TRUNK_VERSION BINARYEN_VERSION PLAYWRIGHT_CORE_SPEC

_infrasim_path_prepend() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}
_infrasim_path_prepend "${CARGO_HOME:-$HOME/.cargo}/bin"
# wasm-opt from npm binaryen must win over any Debian binaryen (108 cannot read our wasm).
_infrasim_path_prepend "$INFRASIM_TOOLS/node_modules/.bin"
export PATH
unset -f _infrasim_path_prepend

# Never let a tool try to fetch a browser or prompt.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_PROGRESS_WHEN=never

# Panic messages in the page's WebAssembly carry source paths: name crates by their registry
# folder instead of this machine's home directory (the page is published; paths are noise).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=crates"
