"""Fixtures. The suite needs a REAL PostgreSQL: DATABASE_URL must point at it.

run-tests.sh starts a throw-away cluster and exports DATABASE_URL; the role in
it needs CREATEDB (migration tests work in scratch databases).
"""

import os
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator

import jwt
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo

SERVICE_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVICE_ROOT))

from orders_api.app import create_app  # noqa: E402
from orders_api.config import Settings  # noqa: E402
from orders_api.migrate import apply_migrations  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "")
SECRET = "orders-api-test-signing-key-0123456789abcdef"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DATABASE_URL:
        pytest.exit("DATABASE_URL is not set: run the suite through run-tests.sh", returncode=2)
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.exit(f"cannot reach PostgreSQL at DATABASE_URL: {exc}", returncode=2)


def make_settings(**overrides) -> Settings:
    values = dict(database_url=DATABASE_URL, jwt_secret=SECRET, readiness_timeout_seconds=2.0)
    values.update(overrides)
    return Settings(**values)


def make_token(
    sub: str = "alice",
    expires_in: int = 300,
    secret: str = SECRET,
    algorithm: str = "HS256",
    **claims,
) -> str:
    payload: Dict[str, object] = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + expires_in}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> str:
    apply_migrations(DATABASE_URL)
    return DATABASE_URL


@pytest.fixture
def db() -> Iterator[psycopg.Connection]:
    """A direct connection for assertions on what the API really stored."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        yield conn


@pytest.fixture(autouse=True)
def clean_orders(db: psycopg.Connection) -> None:
    db.execute("TRUNCATE orders")


@pytest.fixture
def app_factory() -> Iterator[Callable[..., TestClient]]:
    """Build an app with custom settings; started (pool opened) and stopped for the test."""
    clients = []

    def factory(**overrides) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_factory) -> TestClient:
    return app_factory()


@pytest.fixture
def auth() -> Dict[str, str]:
    return bearer(make_token())


@pytest.fixture
def scratch_db() -> Iterator[str]:
    """A new, empty database for tests that need an unmigrated schema."""
    name = f"orders_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(DATABASE_URL, dbname=name)
    finally:
        with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


VALID_ORDER = {
    "customer_id": "c-1001",
    "sku": "WIDGET-42",
    "quantity": 3,
    "unit_price": "19.99",
    "currency": "EUR",
}
