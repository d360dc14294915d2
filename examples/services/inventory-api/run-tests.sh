#!/usr/bin/env bash
# Run the inventory-api test suite against a throw-away PostgreSQL cluster.
#
# Works on a fresh Debian 12 (bookworm) machine as root with only the Debian
# archive reachable: it brings the packages of debian-packages.txt to their
# pinned versions with apt-get (what the image ships), starts a private
# PostgreSQL on 127.0.0.1 (../common/run-tests-lib.sh), migrates it, runs
# pytest with Debian's /usr/bin/python3, and always stops the cluster.
# Extra arguments go to pytest, e.g. `run-tests.sh -k auth -x`.
# The suite of the shared fx_service_kit (../common/tests) runs afterwards, in full.
# Exit status: pytest's (non-zero on any failure, 5 when no test ran).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT_ROOT="$(cd "$HERE/../common" && pwd)"   # fx_service_kit, shipped next to inventory_api in the image
PY=/usr/bin/python3   # Debian's python3-* packages are importable only by this one
TEST_ONLY_PACKAGES=(postgresql python3-pytest python3-httpx)
# shellcheck source=../common/run-tests-lib.sh
source "$KIT_ROOT/run-tests-lib.sh"

ensure_debian_packages "$HERE/debian-packages.txt" "${TEST_ONLY_PACKAGES[@]}"
on_exit() { local rc=$?; stop_test_postgres; exit "$rc"; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_test_postgres inventory-api

export DATABASE_URL; DATABASE_URL="$(create_test_database inventory inventory_test)"
# Rotates the passwords of test roles in the credential rotation tests (and the kit's).
export ROTATION_ADMIN_URL; ROTATION_ADMIN_URL="$(create_rotation_admin inventory)"
export PYTHONPATH="$HERE:$KIT_ROOT"
export PYTHONDONTWRITEBYTECODE=1
# The suite configures every app itself; nothing from the caller's shell leaks in.
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER JWT_LEEWAY_SECONDS JWT_MAX_LIFETIME_SECONDS \
  INVENTORY_SEED LOG_LEVEL OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_TRACES_EXPORTER \
  AWS_XRAY_DAEMON_ADDRESS PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE \
  FX_DATABASE_CREDENTIALS_DIR DB_POOL_MAX_LIFETIME_SECONDS

(cd "$HERE" && "$PY" -m inventory_api.migrate)
set +e
(cd "$HERE" && "$PY" -m pytest -q "$@")
rc=$?
log "fx_service_kit suite (../common/tests):"
(cd "$KIT_ROOT" && "$PY" -m pytest -q)
kit_rc=$?
set -e
if ((rc == 5)); then
  log "pytest collected no tests: failing"
fi
if ((rc == 0)); then
  rc=$kit_rc
fi
exit "$rc"
