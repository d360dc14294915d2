#!/usr/bin/env bash
# Build both services' images from their Dockerfiles and smoke-run them the
# way the platform runs them. For CI (as root, on a fresh Debian 12 machine
# with only the Debian archive reachable; no container registry):
#
#   bash examples/services/images/smoke.sh
#
# 1. installs what it needs with apt-get (host-packages.txt) and runs the
#    checks' own tests (tests/: each check fails on a bad fixture);
# 2. builds the base image from Debian's archive (build-base.sh: debootstrap,
#    pinned by digest) and both images with podman build --pull=never
#    --build-arg BASE_IMAGE=<base>@sha256:<digest>; checks that each image
#    sits on that base, ships exactly the pinned package versions and no
#    test code;
# 3. starts a throw-away PostgreSQL on 127.0.0.1 (common/run-tests-lib.sh),
#    one database per service, and runs each image's migration command;
# 4. runs both containers with the platform's runtime constraints: read-only
#    root file system, /tmp a tmpfs, uid/gid 10001, every capability dropped,
#    no-new-privileges, 512 MiB of memory; checks them from inside;
# 5. smoke_check.py: /readyz of both, an order created through orders-api
#    (which reserves stock in inventory-api), read back, stock lower, and
#    one X-Ray trace id in segments of both services (UDP, as to the agent).
# Prints a summary; always removes the containers, the private image store
# and the PostgreSQL cluster; exits non-zero on any failure.
#
# What this machine needs (cgroupfs, runc, vfs, chroot builds, rlimits) is
# set in podman-lib.sh. Each container gets its own network namespace
# (slirp4netns): it listens on its real port, published on a free 127.0.0.1
# port, and reaches the host's loopback (PostgreSQL, the other service) as
# 10.0.2.2. Base tarball cache: see build-base.sh. FX_IMAGES_KEEP=1 keeps the
# image store (its path is printed) for a look afterwards.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$(cd "$HERE/.." && pwd)"
PY=/usr/bin/python3
SERVICE_NAMES=(inventory-api orders-api)   # inventory first: orders-api calls it
declare -A PORT_OF=([orders-api]=8000 [inventory-api]=8080)
declare -A MODULE_OF=([orders-api]=orders_api [inventory-api]=inventory_api)
HOST_LOOPBACK=10.0.2.2   # slirp4netns' address for the host's 127.0.0.1 (allow_host_loopback)
ISSUER=fx-platform
# shellcheck disable=SC2054 # the commas are inside option values
RUN_CONSTRAINTS=(--read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m --user 10001:10001
  --cap-drop=ALL --security-opt=no-new-privileges --memory=512m --pids-limit=256)

# shellcheck disable=SC2034 # read by run-tests-lib.sh
LOG_TAG=smoke
# shellcheck source=../common/run-tests-lib.sh
source "$SERVICES/common/run-tests-lib.sh"   # log, ensure_debian_packages, start/stop_test_postgres, create_test_database

declare -A PHASE_SECONDS=()
PHASES=()
phase_started=$SECONDS
phase() {   # phase NAME: ends the current phase under NAME
  PHASES+=("$1")
  PHASE_SECONDS[$1]=$((SECONDS - phase_started))
  phase_started=$SECONDS
}

# --- 1. Host packages -------------------------------------------------------
((EUID == 0)) || { log "run as root (podman builds and runs root containers here)"; exit 1; }
ensure_debian_packages "$HERE/host-packages.txt"
phase "host packages"

FX_TMP="$(mktemp -d /var/tmp/fx-smoke.XXXXXX)"
export FX_STORE="$FX_TMP/store" FX_RUNROOT="$FX_TMP/run"
# shellcheck source=podman-lib.sh
source "$HERE/podman-lib.sh"   # pm, bh, FX_ULIMITS

RESULT=FAILED
cleanup() {
  local rc=$? name
  trap - EXIT INT TERM
  if ((rc != 0)); then
    for name in "${SERVICE_NAMES[@]}"; do
      if pm container exists "smoke-$name" 2>/dev/null; then
        log "last log lines of $name:"
        pm logs --tail 30 "smoke-$name" >&2 2>&1 || true
      fi
    done
  fi
  pm rm --force --all --time 5 >/dev/null 2>&1 || true
  pm image unmount --all >/dev/null 2>&1 || true
  fx_unmount_store
  stop_test_postgres
  if [[ "${FX_IMAGES_KEEP:-0}" == 1 ]]; then
    log "image store kept: podman --root $FX_STORE --runroot $FX_RUNROOT ${FX_STORAGE[*]} images"
  else
    rm -rf "$FX_TMP"
  fi
  log "result: $RESULT (exit $rc) after ${SECONDS}s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The checks' own tests first: each check fails on its bad fixture.
"$PY" -m unittest discover -s "$HERE/tests" >"$FX_TMP/unittest.log" 2>&1 \
  || { cat "$FX_TMP/unittest.log" >&2; log "the checks' tests failed"; exit 1; }
log "checks' tests: $(tail -n 1 "$FX_TMP/unittest.log")"
phase "checks' tests"

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- 2. Base and images ---------------------------------------------------------
BASE="$(bash "$HERE/build-base.sh" localhost/fx-debian-bookworm)"
log "base image: $BASE"
phase "base image"
BASE_LAYER="$(pm image inspect --format '{{index .RootFS.Layers 0}}' "$BASE")"

declare -A IMAGE_OF=() HAS_MIGRATE=()
for name in "${SERVICE_NAMES[@]}"; do
  image="localhost/$name:smoke"
  log "building $image"
  if ! pm build --pull=never --isolation=chroot --network=host --layers=false \
    --build-arg "BASE_IMAGE=$BASE" -t "$image" -f "$SERVICES/$name/Dockerfile" "$SERVICES" \
    >"$FX_TMP/build-$name.log" 2>&1; then
    tail -n 40 "$FX_TMP/build-$name.log" >&2
    log "building $image failed"
    exit 1
  fi
  [[ "$(pm image inspect --format '{{index .RootFS.Layers 0}}' "$image")" == "$BASE_LAYER" ]] \
    || { log "$image is not built on $BASE"; exit 1; }
  # Tested is shipped: the image holds exactly the pins of debian-packages.txt.
  mnt="$(pm image mount "$image")"
  sort "$mnt/usr/share/$name/debian-packages.versions" >"$FX_TMP/$name.shipped"
  # A service without a migration module has no schema of its own to create.
  HAS_MIGRATE[$name]=no
  [[ -f "$mnt/app/${MODULE_OF[$name]}/migrate.py" ]] && HAS_MIGRATE[$name]=yes
  # .dockerignore keeps the tests and the kit's test helpers out of what ships.
  shipped_tests="$(cd "$mnt/app" && find . \( -name tests -o -name testing.py -o -name 'test_*.py' \) -print)"
  pm image unmount "$image" >/dev/null
  [[ -z "$shipped_tests" ]] || { log "$image ships test code: $shipped_tests"; exit 1; }
  read_package_list "$SERVICES/$name/debian-packages.txt" | sort >"$FX_TMP/$name.pinned"
  if ! diff -u "$FX_TMP/$name.pinned" "$FX_TMP/$name.shipped" >&2; then
    log "$image does not ship the versions pinned in $name/debian-packages.txt"
    exit 1
  fi
  IMAGE_OF[$name]="$image"
  phase "build $name"
done

# --- 3. PostgreSQL and migrations ---------------------------------------------
start_test_postgres fx-smoke
declare -A DB_URL_OF=()
DB_URL_OF[orders-api]="$(create_test_database orders orders)"
DB_URL_OF[inventory-api]="$(create_test_database inventory inventory)"

JWT_SECRET="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export JWT_SECRET
declare -A HOST_PORT_OF=()
for name in "${SERVICE_NAMES[@]}"; do HOST_PORT_OF[$name]="$(free_port)"; done
XRAY_PORT="$("$PY" -c 'import socket; s = socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# The environment each container gets, as the platform sets it; in files, so
# the secret stays out of the process list.
for name in "${SERVICE_NAMES[@]}"; do
  env_file="$FX_TMP/$name.env"
  (
    umask 077
    {
      echo "DATABASE_URL=${DB_URL_OF[$name]/@127.0.0.1:/@$HOST_LOOPBACK:}"
      echo "JWT_SECRET=$JWT_SECRET"
      echo "JWT_ISSUER=$ISSUER"
      echo "JWT_AUDIENCE=$name"
      echo "OTEL_SERVICE_NAME=$name"
      echo "AWS_XRAY_DAEMON_ADDRESS=$HOST_LOOPBACK:$XRAY_PORT"   # smoke_check.py listens there
      echo "LOG_LEVEL=INFO"
      if [[ "$name" == orders-api ]]; then
        echo "INVENTORY_URL=http://$HOST_LOOPBACK:${HOST_PORT_OF[inventory-api]}"
        echo "INVENTORY_AUDIENCE=inventory-api"
      fi
    } >"$env_file"
  )
done

net_opts() { echo "--network=slirp4netns:allow_host_loopback=true"; }

for name in "${SERVICE_NAMES[@]}"; do
  module="${MODULE_OF[$name]}"
  if [[ "${HAS_MIGRATE[$name]}" == no ]]; then
    log "$name has no $module.migrate: no migration to run"
  else
    log "migrating $name: python3 -m $module.migrate"
    pm run --rm --name "smoke-$name-migrate" "$(net_opts)" "${FX_ULIMITS[@]}" "${RUN_CONSTRAINTS[@]}" \
      --env-file "$FX_TMP/$name.env" "${IMAGE_OF[$name]}" python3 -m "$module.migrate" >"$FX_TMP/migrate-$name.log" 2>&1 \
      || { cat "$FX_TMP/migrate-$name.log" >&2; log "migration of $name failed"; exit 1; }
  fi
done
phase "postgres + migrations"

# --- 4. Containers under the platform's constraints ------------------------------
for name in "${SERVICE_NAMES[@]}"; do
  pm run --detach --name "smoke-$name" "$(net_opts)" "${FX_ULIMITS[@]}" "${RUN_CONSTRAINTS[@]}" \
    --publish "127.0.0.1:${HOST_PORT_OF[$name]}:${PORT_OF[$name]}" \
    --env-file "$FX_TMP/$name.env" "${IMAGE_OF[$name]}" >/dev/null
  log "started $name (image CMD, port ${PORT_OF[$name]}) on 127.0.0.1:${HOST_PORT_OF[$name]}"
done

# The constraints as the processes see them, not only as requested.
for name in "${SERVICE_NAMES[@]}"; do
  pm exec -i "smoke-$name" sh -s 1 <"$HERE/check-constraints.sh" >&2 \
    || { log "$name does not run under the platform's constraints"; exit 1; }
done
log "both services' processes: uid/gid 10001, no capabilities, no_new_privs, read-only /, tmpfs /tmp (check-constraints.sh)"

# --- 5. Through both services ---------------------------------------------------
"$PY" "$HERE/smoke_check.py" --issuer "$ISSUER" --xray-port "$XRAY_PORT" \
  --orders "http://127.0.0.1:${HOST_PORT_OF[orders-api]}" \
  --inventory "http://127.0.0.1:${HOST_PORT_OF[inventory-api]}"
for name in "${SERVICE_NAMES[@]}"; do
  [[ "$(pm inspect --format '{{.State.Running}}' "smoke-$name")" == true ]] \
    || { log "$name stopped during the check"; exit 1; }
done
phase "run + checks"

RESULT=PASSED
log "summary:"
log "  base        $BASE"
for name in "${SERVICE_NAMES[@]}"; do
  log "  $(printf '%-13s' "$name") $(pm image inspect --format '{{.Id}}' "${IMAGE_OF[$name]}" | cut -c1-12)  $(pm image inspect --format '{{.Size}}' "${IMAGE_OF[$name]}" | awk '{printf "%.0f MB", $1 / 1e6}')  $(wc -l <"$FX_TMP/$name.shipped") pinned packages"
done
for p in "${PHASES[@]}"; do
  log "  $(printf '%-24s' "$p") ${PHASE_SECONDS[$p]}s"
done
