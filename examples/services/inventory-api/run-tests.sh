#!/usr/bin/env bash
# Run the inventory-api test suite.
#
# Works on a fresh Debian 12 (bookworm) machine as root with only the Debian
# archive reachable: it installs what is missing with apt-get and runs pytest
# with Debian's /usr/bin/python3. The service keeps its stock in memory, so no
# database is started. Extra arguments go to pytest, e.g. `run-tests.sh -k auth -x`.
# The suite of the shared fx_service_kit (../common/tests) runs afterwards, in full.
# Exit status: pytest's (non-zero on any failure, 5 when no test ran).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT_ROOT="$(cd "$HERE/../common" && pwd)"   # fx_service_kit, shipped next to inventory_api in the image
PY=/usr/bin/python3   # Debian's python3-* packages are importable only by this one
TEST_ONLY_PACKAGES=(python3-pytest python3-httpx)
# shellcheck source=../common/run-tests-lib.sh
source "$KIT_ROOT/run-tests-lib.sh"   # log, ensure_debian_packages

# --- 1. Debian packages -------------------------------------------------------
ensure_debian_packages "$HERE/debian-packages.txt" "${TEST_ONLY_PACKAGES[@]}"

# --- 2. The suite ---------------------------------------------------------------
export PYTHONPATH="$HERE:$KIT_ROOT"
export PYTHONDONTWRITEBYTECODE=1
# The suite configures every app itself; nothing from the caller's shell leaks in.
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER JWT_LEEWAY_SECONDS INVENTORY_SEED LOG_LEVEL

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
