# Real servers for the tests, on loopback and free ports, in one temp folder.
# Sourced by scripts/test; everything started here is stopped on exit.
# Nothing is skipped: a server that does not come up fails the run.

SW_TMP="$(mktemp -d /tmp/shipwarden-test.XXXXXX)"
chmod 755 "$SW_TMP"
SW_STOPS=()

sw_cleanup() {
  local i
  for ((i = ${#SW_STOPS[@]} - 1; i >= 0; i--)); do
    eval "${SW_STOPS[$i]}" >/dev/null 2>&1 || true
  done
  rm -rf "$SW_TMP"
}
trap sw_cleanup EXIT

sw_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

SW_APT_UPDATED=0
# sw_need COMMAND-OR-PATH PACKAGE...: installs the packages when the command is missing.
sw_need() {
  local probe="$1"
  shift
  if command -v "$probe" >/dev/null 2>&1 || compgen -G "$probe" >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "missing $probe: install the packages $* (needs root)" >&2
    return 1
  fi
  if [ "$SW_APT_UPDATED" = 0 ]; then
    apt-get update -qq
    SW_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Starts a private PostgreSQL cluster; exports SHIPWARDEN_TEST_POSTGRES_URL.
sw_start_postgres() {
  sw_need '/usr/lib/postgresql/*/bin/initdb' postgresql
  local bin dir port as=()
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  dir="$SW_TMP/postgres"
  port="$(sw_free_port)"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  chmod 700 "$dir"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$SW_TMP/postgres-initdb.log" 2>&1 ||
    { cat "$SW_TMP/postgres-initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  SW_STOPS+=("${as[*]} $bin/pg_ctl -D $dir/data -m immediate -w stop")
  psql -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE shipwarden_test' >/dev/null
  export SHIPWARDEN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/shipwarden_test"
  export SHIPWARDEN_REQUIRE_POSTGRES=1
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}
