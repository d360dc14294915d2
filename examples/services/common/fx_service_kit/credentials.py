"""Database credentials read from files that change under a running process.

FxMicroservice mounts the database Secret as a volume at
`FX_DATABASE_CREDENTIALS_DIR` (/var/run/secrets/fx/database): files `username`,
`password`, `host`, `port`, `dbname`, `sslmode` and `url`. After a rotation
External Secrets updates the Secret and kubelet the files; the env vars
(`DATABASE_URL`, `PG*`) keep the values of pod start. So every NEW connection
reads the files (`DatabaseCredentials.connect`); established sessions stay
authenticated (PostgreSQL does not end them when a password changes).

kubelet writes a Secret volume atomically: the files live in a timestamped
directory `..2026_12_01_10_00_00.123`, `..data` is a symlink to it and each
file a symlink through `..data`; an update writes a new directory and swaps
`..data` with a rename. `read()` resolves `..data` once and reads every file
from that one directory, so a username and a password always come from the
same version, even while kubelet swaps (a plain directory works too).

On an authentication failure (SQLSTATE 28P01 / 28000) the files are read again
and the connection retried once: the rotation may have landed between the read
and the server's answer. When the files still hold what was just refused, the
retry waits (up to `change_wait_seconds`, 2 s by default) for a new version: a
single-user rotation changes the password in the database first and the Secret
after, so for a moment the files lag the server. A longer lag (External
Secrets' refresh interval plus kubelet's sync period) is still a failed
connection, counted as such; multi-user rotation has no such window. The
password is never logged.
"""

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .config import ConfigError

log = logging.getLogger(__name__)

CREDENTIALS_DIR_ENV = "FX_DATABASE_CREDENTIALS_DIR"
# File -> libpq keyword. `url` is the whole libpq URL; the other files override its parts.
FILES = {"username": "user", "password": "password", "host": "host", "port": "port", "dbname": "dbname",
         "sslmode": "sslmode"}
AUTH_SQLSTATES = frozenset({"28P01", "28000"})
# libpq reports a failed start-up without a SQLSTATE: the server's message is all there is
# (English unless the server's lc_messages says otherwise).
_AUTH_MESSAGE = re.compile(
    r"authentication failed|no pg_hba\.conf entry|role \"[^\"]*\" does not exist|is not permitted to log in"
)

C = TypeVar("C")


def is_auth_failure(exc: BaseException) -> bool:
    """Whether a connection attempt was rejected by the server's authentication (28P01 / 28000)."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    return getattr(exc, "sqlstate", None) in AUTH_SQLSTATES or bool(_AUTH_MESSAGE.search(str(exc)))


class DatabaseCredentials:
    """The mounted database Secret: read at each new connection, counted for /metrics."""

    def __init__(self, directory: str, change_wait_seconds: float = 2.0) -> None:
        self.directory = Path(directory)
        self.change_wait_seconds = change_wait_seconds
        self._lock = threading.Lock()
        # Counters (read by CredentialsCollector): reads, auth failures recovered by a re-read, and not.
        self.reads = 0
        self.auth_recovered = 0
        self.auth_failed = 0

    def __repr__(self) -> str:
        return f"DatabaseCredentials({str(self.directory)!r})"

    def _snapshot(self) -> Path:
        """The directory of one version: `..data`'s target (kubelet's layout) or the directory itself."""
        data = self.directory / "..data"
        if data.is_symlink():
            return self.directory / os.readlink(data)
        return self.directory

    def read(self) -> Dict[str, str]:
        """libpq keywords (user, password, host, port, dbname, sslmode, plus what `url` holds)."""
        params = self._read()
        with self._lock:
            self.reads += 1
        return params

    def _read(self) -> Dict[str, str]:
        for _ in range(5):
            version = self._snapshot()
            try:
                values = self._read_files(version)
            except FileNotFoundError:
                values = None
            # kubelet swapped `..data` (and removed this version) while we read: read the new one.
            if version == self.directory or (values is not None and self._snapshot() == version):
                params = self._params(values or {})
                break
        else:
            raise ConfigError(f"{CREDENTIALS_DIR_ENV} {self.directory}: the credentials kept changing while read")
        return params

    def _read_files(self, version: Path) -> Dict[str, str]:
        if not version.is_dir():
            if version == self.directory:
                raise ConfigError(f"{CREDENTIALS_DIR_ENV} {self.directory} is not a directory")
            raise FileNotFoundError(version)
        # Secret values are exact bytes; a trailing newline (a file written by hand) is not part of them.
        return {name: (version / name).read_text(encoding="utf-8").rstrip("\r\n")
                for name in (*FILES, "url") if (version / name).is_file()}

    def _params(self, values: Dict[str, str]) -> Dict[str, str]:
        params: Dict[str, str] = dict(conninfo_to_dict(values["url"])) if values.get("url") else {}
        params.update({FILES[name]: value for name, value in values.items() if name in FILES and value})
        missing = [k for k in ("host", "user", "password") if not params.get(k)]
        if missing:
            files = {v: k for k, v in FILES.items()}
            raise ConfigError(
                f"{CREDENTIALS_DIR_ENV} {self.directory}: no {', '.join(files[k] for k in missing)} "
                "(files username, password, host, port, dbname, sslmode, or url)")
        return params

    def conninfo(self, base: str = "") -> str:
        """A libpq connection string of `base` with the current credentials (for one-off connections)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(base, **self.read())

    def connect(self, connect: Callable[..., C], conninfo: str = "", **kwargs: Any) -> C:
        """`connect(conninfo, **kwargs)` with the current credentials; on an authentication failure,
        read them again and retry once."""
        params = self.read()
        try:
            return connect(conninfo, **{**kwargs, **params})
        except psycopg.OperationalError as exc:
            if not is_auth_failure(exc):
                raise
            first = exc
        fresh = self._read_changed(params)
        log.warning(
            "database authentication failed: credentials read again, retrying once",
            extra={"db_user": fresh.get("user"), "credentials_changed": fresh != params,
                   "error": _first_line(first)},
        )
        try:
            conn = connect(conninfo, **{**kwargs, **fresh})
        except psycopg.OperationalError as exc:
            if is_auth_failure(exc):
                with self._lock:
                    self.auth_failed += 1
                log.error("database authentication failed again after reading the credentials",
                          extra={"db_user": fresh.get("user"), "error": _first_line(exc)})
            raise
        with self._lock:
            self.auth_recovered += 1
        return conn

    def _read_changed(self, refused: Dict[str, str]) -> Dict[str, str]:
        """The credentials again; while they equal the refused ones, poll for a new version
        up to `change_wait_seconds` (then return them as they are)."""
        deadline = time.monotonic() + self.change_wait_seconds
        fresh = self._read()
        while fresh == refused and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            fresh = self._read()
        with self._lock:
            self.reads += 1
        return fresh

    def connection_class(self, base: type = psycopg.Connection) -> type:
        """A psycopg Connection class whose `connect` goes through `self.connect` (for psycopg_pool)."""
        credentials = self

        class CredentialedConnection(base):  # type: ignore[misc, valid-type]
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any):  # type: ignore[override]
                return credentials.connect(super().connect, conninfo, **kwargs)

        return CredentialedConnection


def _first_line(exc: BaseException) -> str:
    # libpq's message names the user, never the password.
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def credentials_from_env(env: Mapping[str, str]) -> Optional[DatabaseCredentials]:
    """The credentials directory of FX_DATABASE_CREDENTIALS_DIR, or None when unset or blank."""
    directory = (env.get(CREDENTIALS_DIR_ENV) or "").strip()
    return DatabaseCredentials(directory) if directory else None


class CredentialsCollector:
    """Prometheus collector: `db_credential_reads_total`, `db_auth_failures_total{outcome}`."""

    def __init__(self, credentials: DatabaseCredentials) -> None:
        self.credentials = credentials

    def collect(self):
        from prometheus_client.core import CounterMetricFamily

        reads = CounterMetricFamily("db_credential_reads", "Database credential files read (one per new connection).")
        reads.add_metric((), self.credentials.reads)
        yield reads
        failures = CounterMetricFamily(
            "db_auth_failures",
            "New database connections rejected by authentication: recovered by reading the credentials again, or failed.",
            labels=("outcome",),
        )
        failures.add_metric(("recovered",), self.credentials.auth_recovered)
        failures.add_metric(("failed",), self.credentials.auth_failed)
        yield failures
