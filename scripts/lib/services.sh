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

# sw_wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
sw_wait_port() {
  local port="$1" tries=$((${2:-10} * 10))
  while ((tries-- > 0)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

# Starts an OCI registry (CNCF distribution, Debian's docker-registry) on
# loopback with its storage in the temp folder; exports SHIPWARDEN_TEST_OCI_REGISTRY.
sw_start_registry() {
  sw_need docker-registry docker-registry
  local dir="$SW_TMP/registry" port
  port="$(sw_free_port)"
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<CONF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
  secret: shipwarden-test-$RANDOM$RANDOM
CONF
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  SW_STOPS+=("kill $!")
  sw_wait_port "$port" || { cat "$dir/registry.log" >&2; return 1; }
  export SHIPWARDEN_TEST_OCI_REGISTRY="127.0.0.1:$port"
  echo "OCI registry $(docker-registry --version 2>/dev/null | awk '{print $3}') on 127.0.0.1:$port"
}

# Starts a private sshd with a generated host key and user key; exports
# SHIPWARDEN_TEST_SSH_{HOST,PORT,USER,KEY,KNOWN_HOSTS}.
sw_start_sshd() {
  sw_need /usr/sbin/sshd openssh-server
  sw_need ssh openssh-client
  local dir="$SW_TMP/sshd" port user
  port="$(sw_free_port)"
  user="$(id -un)"
  mkdir -p "$dir" && chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && mkdir -p -m 0755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key" -C shipwarden-test
  cp "$dir/user_key.pub" "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
  "$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 &
  SW_STOPS+=("kill $!")
  sw_wait_port "$port" || { cat "$dir/sshd.log" >&2; return 1; }
  # sshd may take a moment to answer its first key exchange: ask again for a few seconds.
  local tries=30
  while ((tries-- > 0)); do
    ssh-keyscan -t ed25519 -p "$port" 127.0.0.1 >"$dir/known_hosts" 2>"$dir/keyscan.log" || true
    [ -s "$dir/known_hosts" ] && break
    sleep 0.2
  done
  [ -s "$dir/known_hosts" ] || { echo "ssh-keyscan read no host key" >&2; cat "$dir/keyscan.log" "$dir/sshd.log" >&2; return 1; }
  export SHIPWARDEN_TEST_SSH_HOST=127.0.0.1 SHIPWARDEN_TEST_SSH_PORT="$port" SHIPWARDEN_TEST_SSH_USER="$user"
  export SHIPWARDEN_TEST_SSH_KEY="$dir/user_key" SHIPWARDEN_TEST_SSH_KNOWN_HOSTS="$dir/known_hosts"
  echo "sshd $(ssh -V 2>&1 | awk '{print $1}') on 127.0.0.1:$port"
}

# Starts two SMTP servers (aiosmtpd) that save what they receive into one
# maildir: one offers and requires STARTTLS, one speaks implicit TLS, both
# with a self-signed certificate for 127.0.0.1. Exports
# SHIPWARDEN_TEST_SMTP_{STARTTLS_PORT,TLS_PORT,MAILDIR,CA}.
sw_start_smtp() {
  local python=/usr/bin/python3
  if ! "$python" -c 'import aiosmtpd' 2>/dev/null; then
    sw_need /usr/lib/python3/dist-packages/aiosmtpd python3-aiosmtpd
  fi
  sw_need openssl openssl
  local dir="$SW_TMP/smtp" p1 p2
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=localhost \
    -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' -addext 'basicConstraints=critical,CA:FALSE' \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
  p1="$(sw_free_port)"
  "$python" -m aiosmtpd -n -l "127.0.0.1:$p1" --tlscert "$dir/cert.pem" --tlskey "$dir/key.pem" \
    -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/starttls.log" 2>&1 &
  SW_STOPS+=("kill $!")
  p2="$(sw_free_port)"
  "$python" -m aiosmtpd -n -l "127.0.0.1:$p2" --smtpscert "$dir/cert.pem" --smtpskey "$dir/key.pem" \
    -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/smtps.log" 2>&1 &
  SW_STOPS+=("kill $!")
  sw_wait_port "$p1" || { cat "$dir/starttls.log" >&2; return 1; }
  sw_wait_port "$p2" || { cat "$dir/smtps.log" >&2; return 1; }
  export SHIPWARDEN_TEST_SMTP_STARTTLS_PORT="$p1" SHIPWARDEN_TEST_SMTP_TLS_PORT="$p2"
  export SHIPWARDEN_TEST_SMTP_MAILDIR="$dir/maildir" SHIPWARDEN_TEST_SMTP_CA="$dir/cert.pem"
  echo "SMTP (aiosmtpd $("$python" -m aiosmtpd --version | awk '{print $2}')) on 127.0.0.1:$p1 (STARTTLS) and :$p2 (TLS)"
}

# Starts Prometheus (Debian's `prometheus`) scraping, every second, a test
# service that a test serves itself on a port chosen here. Exports
# SHIPWARDEN_TEST_PROMETHEUS_URL and SHIPWARDEN_TEST_PROMETHEUS_TARGET_PORT.
sw_start_prometheus() {
  sw_need /usr/bin/prometheus prometheus
  local dir="$SW_TMP/prometheus" port target
  port="$(sw_free_port)"
  target="$(sw_free_port)"
  mkdir -p "$dir/data"
  cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ["127.0.0.1:$target"]
        labels: {env: "prod"}
CONF
  /usr/bin/prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
  SW_STOPS+=("kill $!")
  sw_wait_port "$port" 20 || { cat "$dir/prometheus.log" >&2; return 1; }
  local tries=100
  until python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/-/ready').status != 200)" 2>/dev/null; do
    ((tries-- > 0)) || { echo "Prometheus did not get ready" >&2; cat "$dir/prometheus.log" >&2; return 1; }
    sleep 0.2
  done
  export SHIPWARDEN_TEST_PROMETHEUS_URL="http://127.0.0.1:$port" SHIPWARDEN_TEST_PROMETHEUS_TARGET_PORT="$target"
  echo "Prometheus $(/usr/bin/prometheus --version 2>&1 | awk 'NR==1 {print $3}') on 127.0.0.1:$port, scraping 127.0.0.1:$target"
}

# Starts a real OpenID provider (panva's oidc-provider, scripts/oidc/provider.mjs)
# on loopback. Its npm packages are installed with `npm ci` into a cache folder
# outside the clone, once per package-lock.json (offline from npm's cache when
# the registry is unreachable). Exports SHIPWARDEN_TEST_OIDC_ISSUER (also the
# base of its test helpers: GET /__test/token?user=U&resource=R, POST
# /__test/rotate) and SHIPWARDEN_TEST_OIDC_OTHER_ISSUER (another issuer with
# the same keys).
sw_start_oidc() {
  sw_need node nodejs
  sw_need npm npm
  local src="$PWD/scripts/oidc" cache dir="$SW_TMP/oidc" lock tries=100
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/shipwarden/oidc"
  lock="$(sha256sum "$src/package-lock.json" | cut -c1-16)"
  mkdir -p "$cache" "$dir"
  if [ "$(cat "$cache/.lock-digest" 2>/dev/null)" != "$lock" ] || [ ! -d "$cache/node_modules/oidc-provider" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$cache/"
    (cd "$cache" && { npm ci --no-audit --no-fund --loglevel=error || npm ci --offline --no-audit --no-fund --loglevel=error; }) >&2 ||
      { echo "npm ci of scripts/oidc failed" >&2; return 1; }
    echo "$lock" >"$cache/.lock-digest"
  fi
  cp "$src/provider.mjs" "$cache/provider.mjs"
  node "$cache/provider.mjs" "$dir/issuers" >"$dir/provider.log" 2>&1 &
  SW_STOPS+=("kill $!")
  until [ -s "$dir/issuers" ]; do
    ((tries-- > 0)) || { echo "the OpenID provider did not start" >&2; cat "$dir/provider.log" >&2; return 1; }
    sleep 0.1
  done
  SHIPWARDEN_TEST_OIDC_ISSUER="$(sed -n 1p "$dir/issuers")"
  SHIPWARDEN_TEST_OIDC_OTHER_ISSUER="$(sed -n 2p "$dir/issuers")"
  export SHIPWARDEN_TEST_OIDC_ISSUER SHIPWARDEN_TEST_OIDC_OTHER_ISSUER
  echo "OpenID provider (oidc-provider $(node -p "require('$cache/node_modules/oidc-provider/package.json').version")) on $SHIPWARDEN_TEST_OIDC_ISSUER"
}
