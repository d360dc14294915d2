#!/usr/bin/env bash
# Runs the bundled service-role handler against a throw-away PostgreSQL.
#
# Like the sample services' run-tests.sh: as root on Debian it installs what is missing with
# apt-get, starts a private PostgreSQL on 127.0.0.1 as the unprivileged "postgres" user with TLS
# (a throw-away CA, trusted through NODE_EXTRA_CA_CERTS as the Lambda runtime trusts the RDS CAs),
# creates a non-superuser master (CREATEROLE, owner of the database: what RDS gives its master
# user), bundles the handler, runs test/pg/*.pg.ts with jest (handler.pg.ts also serves a fake
# Secrets Manager on 127.0.0.1), and always stops the cluster.
# Fails (never skips) when PostgreSQL cannot be installed or started. Extra arguments go to jest.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../../examples/services/common/run-tests-lib.sh
source "$ROOT/examples/services/common/run-tests-lib.sh"   # log, ensure_debian_packages

LIST="$(mktemp)"
trap 'rm -f "$LIST"' EXIT
ensure_debian_packages "$LIST" postgresql openssl
rm -f "$LIST"

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$PG_BIN/initdb" ]] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

if ((EUID == 0)); then
  id postgres >/dev/null 2>&1 || { log "the postgres system user is missing"; exit 1; }
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

PG_ROOT="$(mktemp -d /tmp/fx-role-pg.XXXXXX)"
PG_DATA="$PG_ROOT/data"
PG_SOCK="$PG_ROOT/sock"
mkdir -p "$PG_SOCK"
# TLS: a CA of this run only; the server certificate names 127.0.0.1 alone (so "localhost" must fail).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=fx-role-test-ca \
  -keyout "$PG_ROOT/ca.key" -out "$PG_ROOT/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$PG_ROOT/server.key" -out "$PG_ROOT/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$PG_ROOT/server.ext"
openssl x509 -req -days 1 -in "$PG_ROOT/server.csr" -CA "$PG_ROOT/ca.pem" -CAkey "$PG_ROOT/ca.key" -CAcreateserial \
  -extfile "$PG_ROOT/server.ext" -out "$PG_ROOT/server.crt" 2>/dev/null
chmod 600 "$PG_ROOT/server.key"
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

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PORT="$(free_port)"
SM_PORT="$(free_port)"
MASTER_PASSWORD="$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"

as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 >"$PG_ROOT/initdb.log" 2>&1 \
  || { cat "$PG_ROOT/initdb.log" >&2; exit 1; }
PG_OPTS="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PG_SOCK"
PG_OPTS+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c log_statement=all -c log_connections=on"
PG_OPTS+=" -c ssl=on -c ssl_cert_file=$PG_ROOT/server.crt -c ssl_key_file=$PG_ROOT/server.key"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/postgres.log" -w -t 60 -o "$PG_OPTS" start >/dev/null \
  || { cat "$PG_ROOT/postgres.log" >&2; exit 1; }
VERSION="$("$PG_BIN/postgres" -V | awk '{print $3}')"
log "PostgreSQL $VERSION on 127.0.0.1:$PORT"

psql_admin() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PORT" -U postgres -d postgres "$@"; }
# The RDS master: not a superuser, may create roles and databases, owns the application database.
psql_admin -c "CREATE ROLE fxadmin LOGIN CREATEROLE CREATEDB PASSWORD '$MASTER_PASSWORD'"
psql_admin -c "CREATE DATABASE shop OWNER fxadmin"
# PostgreSQL 15 made pg_database_owner own public; the master's tables there are not the services'.
psql_admin -d shop -c "CREATE TABLE public.master_only (secret text); ALTER TABLE public.master_only OWNER TO fxadmin"
psql_admin -c "CREATE ROLE outsider LOGIN PASSWORD 'outsider-password'"

cd "$ROOT"
npx ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-role-handler.ts

export PGTEST_HOST=127.0.0.1 PGTEST_PORT="$PORT" PGTEST_DATABASE=shop
export PGTEST_MASTER_USER=fxadmin PGTEST_MASTER_PASSWORD="$MASTER_PASSWORD" PGTEST_SERVER_VERSION="$VERSION"
export PGTEST_LOG="$PG_ROOT/postgres.log" PGTEST_SM_PORT="$SM_PORT"
# What the Lambda function sets (with the runtime's CA file); the SDK talks to the fake endpoint.
export NODE_EXTRA_CA_CERTS="$PG_ROOT/ca.pem"
export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$SM_PORT" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test-access-key AWS_SECRET_ACCESS_KEY=test-secret-key
unset AWS_PROFILE AWS_SESSION_TOKEN
set +e
npx jest --rootDir "$ROOT" --testMatch '<rootDir>/test/pg/**/*.pg.ts' --coverage=false --ci --runInBand "$@"
rc=$?
set -e
exit "$rc"
