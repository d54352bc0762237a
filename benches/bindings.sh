#!/usr/bin/env bash
# The bindings' call overhead: the same calls from Rust, Python and Node, release builds.
#   benches/bindings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/target"
fi
SW_TMP="$(mktemp -d /tmp/shipwarden-bench.XXXXXX)"
trap 'rm -rf "$SW_TMP"' EXIT
sw_need() { command -v "$1" >/dev/null; }
# shellcheck source=scripts/lib/python.sh
source scripts/lib/python.sh
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
cargo build -q --release --locked -p shipwarden-benches --bin bench-report
"$CARGO_TARGET_DIR/release/bench-report" calls
sw_python_venv >/dev/null
# Both bindings build for the host's explicit triple (napi always passes one),
# so their release builds share one set of compiled crates (#20).
host_triple="$(rustc -vV | sed -n 's/^host: //p')"
(cd bindings/python && maturin develop --release --locked -q --target "$host_triple")
python benches/python_overhead.py
(cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && npx napi build --platform --release --js native.js --dts native.d.ts >/dev/null)
node benches/node_overhead.cjs
# Leave the dev builds that scripts/test uses in place again.
(cd bindings/python && maturin develop --locked -q --target "$host_triple")
(cd bindings/node && npx napi build --platform --js native.js --dts native.d.ts >/dev/null)
