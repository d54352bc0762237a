# A Python virtual environment for building and testing the module, kept
# beside the cargo target folder and keyed by the pinned requirements, so a
# second run reuses it. Sourced by scripts/test.

# sw_python_venv: creates (once) and activates the venv.
sw_python_venv() {
  local req="bindings/python/requirements-test.txt" key dir
  sw_need python3 python3 python3-venv
  key="$( (python3 --version; cat "$req") | sha256sum | cut -c1-16)"
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/venv-$key"
  if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c 'import maturin, pytest, pytest_asyncio, mypy' 2>/dev/null; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
  fi
  # shellcheck source=/dev/null
  source "$dir/bin/activate"
  echo "$(python --version) in $dir"
}

# sw_pytest_counts LOG: appends "passed failed" from pytest's closing line to $SW_TMP/counts.
sw_pytest_counts() {
  local line passed failed errors
  line="$(tail -n 1 "$1")"
  passed="$(grep -oE '[0-9]+ passed' <<<"$line" | cut -d' ' -f1 || true)"
  failed="$(grep -oE '[0-9]+ failed' <<<"$line" | cut -d' ' -f1 || true)"
  errors="$(grep -oE '[0-9]+ errors?' <<<"$line" | cut -d' ' -f1 || true)"
  echo "${passed:-0} $(( ${failed:-0} + ${errors:-0} ))" >>"$SW_TMP/counts"
}
