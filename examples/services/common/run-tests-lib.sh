# Sourced by the services' run-tests.sh (bash). Defines:
#   log MESSAGE...
#   ensure_debian_packages LIST_FILE [EXTRA_PACKAGE...]
#     installs with apt-get whatever is missing of the packages LIST_FILE names
#     (the service's debian-packages.txt, which its image installs too) and of the
#     extra, test-only packages; needs root only when something is missing. Prints
#     the exact versions tested, and leaves them in the array PACKAGES.

log() { printf 'run-tests: %s\n' "$*" >&2; }

ensure_debian_packages() {
  local list="$1" pkg
  shift
  local -a runtime missing=()
  mapfile -t runtime < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$list")
  PACKAGES=("${runtime[@]}" "$@")
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
}
