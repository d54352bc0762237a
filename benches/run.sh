#!/usr/bin/env bash
# Prints the figures of benches/RESULTS.md: the report (medians and ratios
# against goals and floors), then the criterion benches.
#   benches/run.sh            everything
#   benches/run.sh report     the report only
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/target"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "rustc: $(rustc --version)"
cargo build -q --release --locked -p shipwarden-benches --bin bench-report
"$CARGO_TARGET_DIR/release/bench-report"
if [ "${1:-all}" = all ]; then
  cargo bench -q --locked -p shipwarden-benches --bench engine -- --quick
fi
