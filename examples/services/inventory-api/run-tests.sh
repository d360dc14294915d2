#!/usr/bin/env bash
# Run the inventory-api test suite.
#
# Works on a fresh Debian 12 (bookworm) machine as root with only the Debian
# archive reachable: it installs what is missing with apt-get and runs pytest
# with Debian's /usr/bin/python3. The service keeps its stock in memory, so no
# database is started. Extra arguments go to pytest, e.g. `run-tests.sh -k auth -x`.
# Exit status: pytest's (non-zero on any failure, 5 when no test ran).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3   # Debian's python3-* packages are importable only by this one
TEST_ONLY_PACKAGES=(python3-pytest python3-httpx)
mapfile -t RUNTIME_PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$HERE/debian-packages.txt")
PACKAGES=("${RUNTIME_PACKAGES[@]}" "${TEST_ONLY_PACKAGES[@]}")

log() { printf 'run-tests: %s\n' "$*" >&2; }

# --- 1. Debian packages -------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    log "missing Debian packages: ${missing[*]} (run as root, or install them first)"
    exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
log "tested package versions:"
dpkg-query -W -f='  ${Package}=${Version}\n' "${PACKAGES[@]}" >&2

# --- 2. The suite ---------------------------------------------------------------
export PYTHONPATH="$HERE"
export PYTHONDONTWRITEBYTECODE=1
# The suite configures every app itself; nothing from the caller's shell leaks in.
unset JWT_SECRET JWT_SECRET_FILE JWT_AUDIENCE JWT_ISSUER JWT_LEEWAY_SECONDS INVENTORY_SEED LOG_LEVEL

cd "$HERE"
set +e
"$PY" -m pytest -q "$@"
rc=$?
set -e
if ((rc == 5)); then
  log "pytest collected no tests: failing"
fi
exit "$rc"
