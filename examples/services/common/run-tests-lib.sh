# shellcheck shell=bash
# Sourced by the services' run-tests.sh and by ../loadtest/run.sh (bash). Defines:
#   log MESSAGE...
#   ensure_debian_packages LIST_FILE [EXTRA_PACKAGE...]
#     brings the packages LIST_FILE names (the service's debian-packages.txt, which
#     its image installs too, as package=version pins) to exactly the pinned
#     versions with apt-get: missing ones are installed, older or newer ones are
#     upgraded or downgraded, so the suite runs on what the image ships. Extra,
#     test-only packages (unpinned) are installed when missing. Needs root only
#     when something changes. Prints the exact versions tested, and leaves the
#     package names in the array PACKAGES.
#   start_test_postgres NAME
#     starts a throw-away PostgreSQL cluster on 127.0.0.1 (a free port) as the
#     unprivileged "postgres" user (or as the caller when not root) and sets
#     PG_BIN PG_ROOT PG_DATA PG_SOCK PG_PORT PG_OPTS; stop_test_postgres stops
#     it and removes its files (call it from an EXIT trap); restart_test_postgres
#     [immediate] restarts it on the same port. psql_admin ARGS runs psql as the
#     superuser.
#   create_test_database ROLE DATABASE (prints its URL); create_rotation_admin ROLE...
#     (a role that may rotate the passwords of ROLEs and their clones; prints its URL).

log() { printf '%s: %s\n' "${LOG_TAG:-run-tests}" "$*" >&2; }

# "name=version  # comment" lines -> "name=version" (or "name" when unpinned)
read_package_list() {
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' -e '/^$/d' "$1"
}

ensure_debian_packages() {
  local list="$1" spec name want have
  shift
  local -a specs change=()
  mapfile -t specs < <(read_package_list "$list")
  specs+=("$@")
  PACKAGES=()
  for spec in "${specs[@]}"; do
    name="${spec%%=*}"
    want=""
    [[ "$spec" == *=* ]] && want="${spec#*=}"
    PACKAGES+=("$name")
    have="$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)"
    if [[ "$have" != installed\ * ]]; then
      change+=("$spec")
    elif [[ -n "$want" && "${have#installed }" != "$want" ]]; then
      log "$name ${have#installed } differs from the pinned $want"
      change+=("$spec")
    fi
  done
  if ((${#change[@]})); then
    if ((EUID != 0)); then
      log "Debian packages to install or move to their pinned version: ${change[*]} (run as root, or install them first)"
      exit 1
    fi
    log "installing: ${change[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends --allow-downgrades -o DPkg::Lock::Timeout=300 \
      "${change[@]}" >/dev/null
  fi
  log "tested package versions:"
  dpkg-query -W -f='  ${Package}=${Version}\n' "${PACKAGES[@]}" >&2
  # Verify, so a pin apt could not honour fails here and not in the image.
  for spec in "${specs[@]}"; do
    [[ "$spec" == *=* ]] || continue
    have="$(dpkg-query -W -f='${Version}' "${spec%%=*}" 2>/dev/null || true)"
    [[ "$have" == "${spec#*=}" ]] || { log "${spec%%=*} is $have, not the pinned ${spec#*=}"; exit 1; }
  done
}

start_test_postgres() {
  local name="$1" py=/usr/bin/python3
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -x "$PG_BIN/initdb" ]] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || { log "the postgres system user is missing"; exit 1; }
    as_pg() { runuser -u postgres -- "$@"; }
  else
    as_pg() { "$@"; }   # a non-root developer runs the cluster as themselves
  fi
  PG_ROOT="$(mktemp -d "/tmp/$name-pg.XXXXXX")"
  PG_DATA="$PG_ROOT/data"
  PG_SOCK="$PG_ROOT/sock"
  mkdir -p "$PG_SOCK"
  if ((EUID == 0)); then chown -R postgres: "$PG_ROOT"; fi
  chmod 700 "$PG_ROOT"
  PG_PORT="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$PG_ROOT/initdb.log" 2>&1 \
    || { cat "$PG_ROOT/initdb.log" >&2; exit 1; }
  # fsync and friends off: the data is thrown away, speed matters more.
  PG_OPTS="-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_SOCK"
  PG_OPTS+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/postgres.log" -w -t 60 -o "$PG_OPTS" start >/dev/null \
    || { cat "$PG_ROOT/postgres.log" >&2; exit 1; }
  log "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
}

restart_test_postgres() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w stop >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/postgres.log" -w -t 60 -o "$PG_OPTS" start >/dev/null
}

stop_test_postgres() {
  if [[ -n "${PG_DATA:-}" && -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 \
      || as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [[ -n "${PG_ROOT:-}" ]] && rm -rf "$PG_ROOT"
  return 0
}

psql_admin() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"; }

# create_test_database ROLE DATABASE: a CREATEDB login role with a random password
# owning a new database; prints the DATABASE_URL.
create_test_database() {
  local role="$1" db="$2" password
  password="$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(16))')"
  psql_admin -c "CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password'"
  psql_admin -c "CREATE DATABASE $db OWNER $role"
  printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' "$role" "$password" "$PG_PORT" "$db"
}

# create_rotation_admin ROLE...: a login role that may create roles and change their passwords
# (CREATEROLE, ADMIN OPTION on each ROLE, pg_signal_backend, pg_read_all_stats), standing in for the Secrets Manager
# rotation function's master user in the credential rotation tests; prints its URL.
create_rotation_admin() {
  local password role
  password="$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(16))')"
  psql_admin -c "CREATE ROLE fx_rotation_admin LOGIN CREATEROLE PASSWORD '$password'"
  psql_admin -c "GRANT pg_signal_backend, pg_read_all_stats TO fx_rotation_admin"
  for role in "$@"; do
    psql_admin -c "GRANT $role TO fx_rotation_admin WITH ADMIN OPTION"
  done
  printf 'postgresql://fx_rotation_admin:%s@127.0.0.1:%s/postgres\n' "$password" "$PG_PORT"
}
