#!/usr/bin/env bash
# Run the orders-api test suite against a throw-away PostgreSQL cluster.
#
# Works on a fresh Debian 12 (bookworm) machine as root with only the Debian
# archive reachable: it installs what is missing with apt-get, starts a private
# PostgreSQL on 127.0.0.1 as the unprivileged "postgres" user, migrates it,
# runs pytest with Debian's /usr/bin/python3, and always stops the cluster.
# Extra arguments go to pytest, e.g. `run-tests.sh -k migrations -x`.
# Exit status: pytest's (non-zero on any failure, 5 when no test ran).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT_ROOT="$(cd "$HERE/../common" && pwd)"   # fx_service_kit, shipped next to orders_api in the image
PY=/usr/bin/python3   # Debian's python3-* packages are importable only by this one
TEST_ONLY_PACKAGES=(postgresql python3-pytest)   # python3-httpx is a runtime package now
# shellcheck source=../common/run-tests-lib.sh
source "$KIT_ROOT/run-tests-lib.sh"   # log, ensure_debian_packages

# --- 1. Debian packages -------------------------------------------------------
ensure_debian_packages "$HERE/debian-packages.txt" "${TEST_ONLY_PACKAGES[@]}"

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$PG_BIN/initdb" ]] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

# --- 2. Throw-away PostgreSQL cluster ---------------------------------------------
if ((EUID == 0)); then
  id postgres >/dev/null 2>&1 || { log "the postgres system user is missing"; exit 1; }
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }   # a non-root developer runs the cluster as themselves
fi

PG_ROOT="$(mktemp -d /tmp/orders-api-pg.XXXXXX)"
PG_DATA="$PG_ROOT/data"
PG_SOCK="$PG_ROOT/sock"
mkdir -p "$PG_SOCK"
((EUID == 0)) && chown -R postgres: "$PG_ROOT"
chmod 700 "$PG_ROOT"

cleanup() {
  local rc=$?
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 \
      || as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_ROOT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
APP_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"

as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 >"$PG_ROOT/initdb.log" 2>&1 \
  || { cat "$PG_ROOT/initdb.log" >&2; exit 1; }
# fsync and friends off: the data is thrown away, speed matters more.
PG_OPTS="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PG_SOCK"
PG_OPTS+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/postgres.log" -w -t 60 -o "$PG_OPTS" start >/dev/null \
  || { cat "$PG_ROOT/postgres.log" >&2; exit 1; }
log "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PORT (data in $PG_DATA)"

psql_admin() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PORT" -U postgres -d postgres "$@"; }
psql_admin -c "CREATE ROLE orders LOGIN CREATEDB PASSWORD '$APP_PASSWORD'"
psql_admin -c "CREATE DATABASE orders_test OWNER orders"

export DATABASE_URL="postgresql://orders:$APP_PASSWORD@127.0.0.1:$PORT/orders_test"
export PYTHONPATH="$HERE:$KIT_ROOT"
export PYTHONDONTWRITEBYTECODE=1
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER

# --- 3. Migrations, then the suite ---------------------------------------------
cd "$HERE"
"$PY" -m orders_api.migrate
set +e
"$PY" -m pytest -q "$@"
rc=$?
set -e
if ((rc == 5)); then
  log "pytest collected no tests: failing"
fi
exit "$rc"
