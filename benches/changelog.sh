#!/usr/bin/env bash
# Full-history release notes: shipwarden beside git-cliff, conventional-changelog
# and the `git log` floor, on generated repositories of 50,000 conventional
# commits with 49 and with 499 tags (issue #5): a linear history, and a
# merge-heavy one with feature branches (issue #17; see changelog/gen.py).
# Prints Markdown tables for benches/RESULTS.md. Installs the peers (pinned)
# into ~/.cache/shipwarden/tools.
#
#   benches/changelog.sh [RUNS]        (default 5; the slow peers run 3 times)
#   PEERS=0 benches/changelog.sh 15    (only the floor and shipwarden, for the ratio)
#   SHAPES=merges benches/changelog.sh (only the merge-heavy corpora; default "linear merges")
#   EVERY=1000 benches/changelog.sh    (only the 49-tag corpora; default "1000 100")
#   PEERS=cliff benches/changelog.sh   (git-cliff as the only peer)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
COMMITS="${COMMITS:-50000}"
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/target}"
WORK="$(mktemp -d /tmp/shipwarden-changelog.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "building shipwarden (release)" >&2
cargo build -q --release --locked -p shipwarden-cli
SW="$CARGO_TARGET_DIR/release/shipwarden"

mkdir -p "$TOOLS"
if [ "${PEERS:-1}" != 0 ] && [ ! -x "$TOOLS/bin/git-cliff" ]; then
  echo "installing git-cliff 2.14.2 (once)" >&2
  cargo install -q git-cliff --locked --version 2.14.2 --root "$TOOLS"
fi
if [ "${PEERS:-1}" = 1 ] && [ ! -x "$TOOLS/node/node_modules/.bin/conventional-changelog" ]; then
  echo "installing conventional-changelog-cli 5.0.0 (once)" >&2
  mkdir -p "$TOOLS/node"
  (cd "$TOOLS/node" && npm install -s --no-audit --no-fund conventional-changelog-cli@5.0.0 conventional-changelog-conventionalcommits@8.0.0)
fi
CLIFF="$TOOLS/bin/git-cliff"
CC="$TOOLS/node/node_modules/.bin/conventional-changelog"

printf '\nMachine: %s, %s cores; git %s; %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" \
  "$(git --version | cut -d' ' -f3)" "$("$SW" --version)" >&2
for shape in ${SHAPES:-linear merges}; do
for every in ${EVERY:-1000 100}; do
  repo="$WORK/repo-$shape-$every"
  git init -q -b main "$repo"
  python3 benches/changelog/gen.py "$COMMITS" "$every" "$shape" | git -C "$repo" fast-import --quiet
  git -C "$repo" checkout -q main
  tags=$(git -C "$repo" tag | wc -l)
  printf '\n### %s: %s commits (%s merges), %s tags (a tag every %s commits)\n\n' "$shape" \
    "$(git -C "$repo" rev-list --count HEAD)" "$(git -C "$repo" rev-list --count --merges HEAD)" "$tags" "$every"
  # Sanity: every tool sees the same history.
  (cd "$repo" && "$SW" notes --output "$WORK/sw.md" \
     && printf 'shipwarden wrote %s entries in %s release sections\n\n' \
       "$(grep -c '^- ' "$WORK/sw.md")" "$(grep -c '^## ' "$WORK/sw.md")" >&2)
  peers=()
  if [ "${PEERS:-1}" != 0 ]; then
    peers=("slow:git-cliff 2.14.2=$CLIFF --offline --output /dev/null")
  fi
  if [ "${PEERS:-1}" = 1 ]; then
    peers+=("slow:conventional-changelog 5.0.0=$CC -p conventionalcommits -r 0 > /dev/null")
  fi
  (cd "$repo" && python3 "$OLDPWD/benches/changelog/measure.py" "$RUNS" \
    "git log (floor)=git log --format=%H%x00%s%x00%b > /dev/null" \
    "shipwarden notes=$SW notes --output /dev/null" "${peers[@]}")
  rm -rf "$repo"
done
done
