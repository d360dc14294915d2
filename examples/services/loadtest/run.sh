#!/usr/bin/env bash
# Load and fault test of the sample services (loopback only, bounded in requests
# and time): see loadtest.py for the phases and the integrity verdict.
#
# Like the services' run-tests.sh it works on a fresh Debian 12 machine as root
# with only the Debian archive reachable: it brings the services' packages to
# their pinned versions, starts a throw-away PostgreSQL on 127.0.0.1, migrates
# both services' databases, runs loadtest.py with /usr/bin/python3 and always
# stops the cluster. Extra arguments go to loadtest.py
# (--orders-per-phase N, --concurrency N, --time-bound SECONDS).
# Exit status: loadtest.py's (0 integrity OK, 1 integrity failed, 2 setup or time bound).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$(cd "$HERE/.." && pwd)"
KIT_ROOT="$SERVICES/common"
PY=/usr/bin/python3
export LOG_TAG=loadtest   # read by log() in run-tests-lib.sh
# shellcheck source=../common/run-tests-lib.sh
source "$KIT_ROOT/run-tests-lib.sh"

ensure_debian_packages "$SERVICES/orders-api/debian-packages.txt" postgresql
ensure_debian_packages "$SERVICES/inventory-api/debian-packages.txt"
on_exit() { local rc=$?; stop_test_postgres; exit "$rc"; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_test_postgres loadtest

export ORDERS_DATABASE_URL; ORDERS_DATABASE_URL="$(create_test_database orders orders_load)"
export INVENTORY_DATABASE_URL; INVENTORY_DATABASE_URL="$(create_test_database inventory inventory_load)"
# The fault "credential rotation": loadtest.py rotates the services' roles with this one, and
# writes their credential files (as kubelet does) under LOADTEST_CREDENTIALS_ROOT.
export ROTATION_ADMIN_URL; ROTATION_ADMIN_URL="$(create_rotation_admin orders inventory)"
export LOADTEST_CREDENTIALS_ROOT="$PG_ROOT/credentials"
# The fault "database restart": a script loadtest.py runs mid-load.
export LOADTEST_DB_RESTART="$PG_ROOT/restart.sh"
{
  printf 'set -e\n'
  if ((EUID == 0)); then
    printf 'runuser -u postgres -- %q -D %q -m fast -w restart -l %q -o %q >/dev/null\n' \
      "$PG_BIN/pg_ctl" "$PG_DATA" "$PG_ROOT/postgres.log" "$PG_OPTS"
  else
    printf '%q -D %q -m fast -w restart -l %q -o %q >/dev/null\n' "$PG_BIN/pg_ctl" "$PG_DATA" "$PG_ROOT/postgres.log" "$PG_OPTS"
  fi
} >"$LOADTEST_DB_RESTART"
export PYTHONDONTWRITEBYTECODE=1
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER INVENTORY_URL OTEL_EXPORTER_OTLP_ENDPOINT \
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_TRACES_EXPORTER AWS_XRAY_DAEMON_ADDRESS PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE \
  FX_DATABASE_CREDENTIALS_DIR DB_POOL_MAX_LIFETIME_SECONDS

DATABASE_URL="$ORDERS_DATABASE_URL" PYTHONPATH="$SERVICES/orders-api:$KIT_ROOT" LOG_LEVEL=WARNING "$PY" -m orders_api.migrate
DATABASE_URL="$INVENTORY_DATABASE_URL" PYTHONPATH="$SERVICES/inventory-api:$KIT_ROOT" LOG_LEVEL=WARNING INVENTORY_SEED='{}' \
  "$PY" -m inventory_api.migrate
PYTHONPATH="$SERVICES/orders-api:$SERVICES/inventory-api:$KIT_ROOT" "$PY" "$HERE/loadtest.py" "$@"
