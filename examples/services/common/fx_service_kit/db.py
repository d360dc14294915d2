"""A psycopg connection pool that hands out only live connections.

After a database restart every pooled connection is dead; psycopg_pool 3.1
(Debian bookworm) has no `check` callback, so `Pool.connection()` pings each
connection it takes out (one round trip) and replaces a dead one before the
caller sees it: the first request after recovery does not fail.

A database that stays unreachable raises `DatabaseUnavailable`, which the
problem handlers (problems.py) turn into 503 with Retry-After.

With `credentials` (the mounted Secret, credentials.py) every new connection
reads the current credential files, so a rotation reaches the pool without a
restart; `max_lifetime` bounds how long a connection opened with older
credentials is kept (it is closed when returned to the pool, never mid-request).
"""

import logging
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from . import tracing
from .credentials import DatabaseCredentials

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """No working connection within the timeout: the database is down or overloaded."""


class Pool:
    def __init__(
        self,
        url: str,
        name: str,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
        connect_timeout: int = 3,
        application_name: Optional[str] = None,
        credentials: Optional[DatabaseCredentials] = None,
        max_lifetime: float = 3600.0,
    ) -> None:
        self.timeout = timeout
        self.name = name
        self.credentials = credentials
        kwargs: Dict[str, Any] = {
            "row_factory": dict_row,
            # Autocommit outside `transaction()`: the ping opens no transaction of its own.
            "autocommit": True,
            "application_name": application_name or name,
            "connect_timeout": connect_timeout,
        }
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            name=name,
            kwargs=kwargs,
            max_lifetime=max_lifetime,
            **({"connection_class": credentials.connection_class()} if credentials else {}),
            # Do not block start-up on the database: /readyz reports it instead.
            open=False,
            # Give up a background reconnect quickly: the pool then grows again on demand,
            # instead of backing off for minutes after a database restart.
            reconnect_timeout=5.0,
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    def _live(self, timeout: float) -> psycopg.Connection:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnavailable("no database connection")
            try:
                conn = self.pool.getconn(timeout=remaining)
            except PoolTimeout as exc:
                raise DatabaseUnavailable("no database connection") from exc
            try:
                conn.execute("SELECT 1")
                return conn
            except psycopg.Error:
                # Dead (e.g. the server restarted): close it so the pool replaces it.
                log.info("discarded a dead pooled connection", extra={"pool": self.name})
                conn.close()
                self.pool.putconn(conn)

    @contextmanager
    def connection(self, timeout: Optional[float] = None, span: str = "postgresql") -> Iterator[psycopg.Connection]:
        """A live connection in a transaction (committed on success), traced as one client span."""
        with tracing.client_span(span, {"db.system": "postgresql"}):
            conn = self._live(self.timeout if timeout is None else timeout)
            try:
                with conn.transaction():
                    yield conn
            except psycopg.OperationalError as exc:
                if conn.closed or conn.broken:
                    raise DatabaseUnavailable(str(exc).strip()) from exc
                raise
            finally:
                self.pool.putconn(conn)
