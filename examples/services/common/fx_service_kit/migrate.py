"""Schema migrations shared by the services: plain SQL files applied in order,
tracked in schema_migrations. Each service wraps it (orders_api.migrate,
inventory_api.migrate) with its own directory and advisory lock key, and runs it
as the Kubernetes migration Job before a new Deployment rolls out:

    python3 -m <service>.migrate            # apply pending migrations
    python3 -m <service>.migrate --check    # exit 3 if any are pending

Properties:
- idempotent: applied versions are recorded and skipped on the next run;
- atomic per file: each file and its bookkeeping row commit in one transaction;
- safe under concurrency: a session-level advisory lock serialises runners,
  so two Jobs (or a Job retried while the first is still running) never race;
- tamper-evident: an applied file whose content changed is an error.
"""

import argparse
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import psycopg

log = logging.getLogger("fx_service_kit.migrate")

FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


def lock_key(tag: bytes) -> int:
    """A fixed 64-bit advisory lock key from 8 ASCII bytes (pg_advisory_lock takes a bigint)."""
    assert len(tag) == 8
    return int.from_bytes(tag, "big", signed=True)

CREATE_TRACKING_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text        PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    sql: str
    checksum: str


def discover_migrations(directory: Path) -> List[Migration]:
    migrations: Dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = FILENAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_snake_case.sql")
        version = match["version"]
        if version in migrations:
            raise MigrationError(f"duplicate migration version {version}: {path.name}")
        sql = path.read_text(encoding="utf-8")
        migrations[version] = Migration(
            version=version,
            name=match["name"],
            path=path,
            sql=sql,
            checksum=hashlib.sha256(sql.encode("utf-8")).hexdigest(),
        )
    return [migrations[v] for v in sorted(migrations)]


def _applied(conn: psycopg.Connection) -> Dict[str, str]:
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {version: checksum for version, checksum in rows}


def pending_migrations(database_url: str, directory: Path) -> List[Migration]:
    migrations = discover_migrations(directory)
    with psycopg.connect(database_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        applied = _applied(conn) if exists and exists[0] else {}
    return [m for m in migrations if m.version not in applied]


def apply_migrations(database_url: str, directory: Path, lock: int) -> List[str]:
    """Apply every pending migration; return the versions applied by this call."""
    migrations = discover_migrations(directory)
    applied_now: List[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            conn.execute(CREATE_TRACKING_TABLE)
            applied = _applied(conn)
            for migration in migrations:
                recorded = applied.get(migration.version)
                if recorded is not None:
                    if recorded != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.path.name} was changed after it was applied "
                            "(checksum mismatch); add a new migration instead"
                        )
                    continue
                started = time.monotonic()
                with conn.transaction():
                    # No parameters: psycopg sends the file as one simple query,
                    # so a file may hold several statements.
                    conn.execute(migration.sql)  # type: ignore[arg-type]
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.version)
                log.info(
                    "applied migration",
                    extra={
                        "version": migration.version,
                        "migration": migration.name,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            unknown = sorted(set(applied) - {m.version for m in migrations})
            if unknown:
                # A newer release already migrated this database (e.g. during a rollback).
                log.warning("database has migrations this release does not know", extra={"versions": unknown})
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
    return applied_now


def _wait_for_database(database_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            with psycopg.connect(database_url, connect_timeout=5):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() + delay > deadline:
                raise MigrationError(f"database not reachable within {timeout:.0f}s: {exc}") from exc
            log.info("waiting for the database", extra={"error": str(exc).strip()})
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def main(
    prog: str,
    directory: Path,
    lock: int,
    argv: Optional[List[str]] = None,
    after: Optional[Callable[[str], None]] = None,
) -> int:
    """The migration command; `after(database_url)` runs once the schema is current (e.g. seeding)."""
    from .logs import configure_logging

    parser = argparse.ArgumentParser(prog=f"python3 -m {prog}", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 3 if migrations are pending")
    parser.add_argument(
        "--wait",
        type=float,
        default=float(os.environ.get("MIGRATE_WAIT_SECONDS", "60")),
        help="seconds to wait for the database to accept connections (default 60)",
    )
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("LOG_LEVEL", "INFO").upper())

    from .config import database_url_from_env

    database_url = database_url_from_env(os.environ)
    if not database_url:
        log.error("DATABASE_URL (or PGHOST and friends) is required")
        return 2
    try:
        _wait_for_database(database_url, args.wait)
        if args.check:
            pending = [m.version for m in pending_migrations(database_url, directory)]
            log.info("migration status", extra={"pending": pending})
            return 3 if pending else 0
        applied = apply_migrations(database_url, directory, lock)
        if after is not None:
            after(database_url)
    except (MigrationError, psycopg.Error) as exc:
        log.error("migration failed", extra={"error": str(exc).strip()})
        return 1
    log.info("migrations complete", extra={"applied": applied})
    return 0

