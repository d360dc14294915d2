#!/usr/bin/env bash
# Run the orders-api test suite against a throw-away PostgreSQL cluster.
#
# Works on a fresh Debian 12 (bookworm) machine as root with only the Debian
# archive reachable: it brings the packages of debian-packages.txt to their
# pinned versions with apt-get (what the image ships), starts a private
# PostgreSQL on 127.0.0.1 as the unprivileged "postgres" user, migrates it,
# runs pytest with Debian's /usr/bin/python3, and always stops the cluster.
# The tests that call inventory-api use a database of their own in the same cluster.
# Extra arguments go to pytest, e.g. `run-tests.sh -k migrations -x`.
# Exit status: pytest's (non-zero on any failure, 5 when no test ran).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT_ROOT="$(cd "$HERE/../common" && pwd)"   # fx_service_kit, shipped next to orders_api in the image
INVENTORY_ROOT="$(cd "$HERE/../inventory-api" && pwd)"
PY=/usr/bin/python3   # Debian's python3-* packages are importable only by this one
TEST_ONLY_PACKAGES=(postgresql python3-pytest)
# shellcheck source=../common/run-tests-lib.sh
source "$KIT_ROOT/run-tests-lib.sh"

ensure_debian_packages "$HERE/debian-packages.txt" "${TEST_ONLY_PACKAGES[@]}"
on_exit() { local rc=$?; stop_test_postgres; exit "$rc"; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_test_postgres orders-api

export DATABASE_URL; DATABASE_URL="$(create_test_database orders orders_test)"
export INVENTORY_DATABASE_URL; INVENTORY_DATABASE_URL="$(create_test_database inventory inventory_test)"
# Rotates the passwords of test roles in the credential rotation tests.
export ROTATION_ADMIN_URL; ROTATION_ADMIN_URL="$(create_rotation_admin orders inventory)"
export PYTHONPATH="$HERE:$KIT_ROOT"
export PYTHONDONTWRITEBYTECODE=1
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER JWT_MAX_LIFETIME_SECONDS INVENTORY_URL \
  OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_TRACES_EXPORTER AWS_XRAY_DAEMON_ADDRESS \
  PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE \
  FX_DATABASE_CREDENTIALS_DIR DB_POOL_MAX_LIFETIME_SECONDS

cd "$HERE"
"$PY" -m orders_api.migrate
(cd "$INVENTORY_ROOT" && DATABASE_URL="$INVENTORY_DATABASE_URL" PYTHONPATH="$INVENTORY_ROOT:$KIT_ROOT" \
  "$PY" -m inventory_api.migrate)
set +e
"$PY" -m pytest -q "$@"
rc=$?
set -e
if ((rc == 5)); then
  log "pytest collected no tests: failing"
fi
exit "$rc"
