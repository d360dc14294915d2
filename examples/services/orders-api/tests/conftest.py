"""Fixtures. The suite needs a REAL PostgreSQL: DATABASE_URL must point at it.

run-tests.sh starts a throw-away cluster and exports DATABASE_URL; the role in
it needs CREATEDB (migration tests work in scratch databases).

The `inventory` fixture serves the REAL inventory-api (../inventory-api) with
uvicorn on a loopback port, for the tests of orders-api calling it.
"""

import os
import socket
import sys
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

SERVICE_ROOT = Path(__file__).resolve().parents[1]
INVENTORY_ROOT = SERVICE_ROOT.parent / "inventory-api"
KIT_ROOT = SERVICE_ROOT.parent / "common"
sys.path.insert(0, str(SERVICE_ROOT))
sys.path.insert(1, str(INVENTORY_ROOT))
sys.path.insert(2, str(KIT_ROOT))

import uvicorn  # noqa: E402
from fx_service_kit import testing  # noqa: E402
from fx_service_kit.testing import app_factory, bearer, client, unused_port  # noqa: E402,F401
from inventory_api.app import create_app as create_inventory_app  # noqa: E402
from inventory_api.config import Settings as InventorySettings  # noqa: E402
from orders_api.app import create_app  # noqa: E402
from orders_api.config import Settings  # noqa: E402
from orders_api.migrate import apply_migrations  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "")
# inventory-api's own database in the same throw-away cluster (run-tests.sh migrates it).
INVENTORY_DATABASE_URL = os.environ.get("INVENTORY_DATABASE_URL", "")
SECRET = "orders-api-test-signing-key-0123456789abcdef"
ISSUER = "fx-platform"
AUDIENCE = "orders-api"
ADMIN = {"scope": "orders:admin"}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DATABASE_URL or not INVENTORY_DATABASE_URL:
        pytest.exit("DATABASE_URL / INVENTORY_DATABASE_URL are not set: run the suite through run-tests.sh",
                    returncode=2)
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.exit(f"cannot reach PostgreSQL at DATABASE_URL: {exc}", returncode=2)


def make_settings(**overrides) -> Settings:
    values = dict(database_url=DATABASE_URL, jwt_secret=SECRET, readiness_timeout_seconds=2.0,
                  sweep_interval_seconds=3600.0)
    values.update(overrides)
    return Settings(**values)


# An end user's token: make_token(sub="alice", expires_in=300, secret=SECRET, iss=ISSUER, aud=AUDIENCE, **claims)
make_token = partial(testing.make_token, secret=SECRET, sub="alice", iss=ISSUER, aud=AUDIENCE)


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


# For the kit's app_factory/client fixtures (app_factory starts and stops each app).
build_app = testing.build_app_fixture(create_app, make_settings)
auth = testing.auth_fixture(make_token)


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


VALID_ORDER = {
    "customer_id": "c-1001",
    "sku": "WIDGET-42",
    "quantity": 3,
    "unit_price": "19.99",
    "currency": "EUR",
}


# -- the real inventory-api, served over HTTP on loopback --------------------------

INVENTORY_SEED = {"WIDGET-42": 10, "GADGET-7": 2}


class RecordingApp:
    """ASGI wrapper that records (method, path, headers) of each request, then
    hands it unchanged to the real application."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.requests.append((scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)


class LiveInventory:
    def __init__(self, app, recorder: RecordingApp, url: str) -> None:
        self.app = app
        self.recorder = recorder
        self.url = url

    @property
    def requests(self) -> List[Tuple[str, str, Dict[str, str]]]:
        return list(self.recorder.requests)

    def level(self, sku: str) -> Tuple[int, int]:
        """(available, reserved + committed): units free, and units held or sold."""
        level = self.app.state.store.level(sku)
        return level.available, level.reserved + level.committed

    def states(self) -> Dict[str, int]:
        """Reservations by state, straight from inventory-api's database."""
        with psycopg.connect(INVENTORY_DATABASE_URL) as conn:
            return dict(conn.execute("SELECT state, count(*) FROM reservations GROUP BY state").fetchall())


def reset_inventory(seed: Optional[Mapping[str, int]] = None) -> None:
    from inventory_api.migrate import seed_stock

    with psycopg.connect(INVENTORY_DATABASE_URL, autocommit=True) as conn:
        conn.execute("TRUNCATE reservations, stock")
    seed_stock(INVENTORY_DATABASE_URL, dict(seed or INVENTORY_SEED))


def serve_inventory(
    secret: str = SECRET, seed: Optional[Mapping[str, int]] = None, reset: bool = True, **overrides
) -> Tuple[LiveInventory, Callable[[], None]]:
    if reset:
        reset_inventory(seed)
    app = create_inventory_app(InventorySettings(
        database_url=INVENTORY_DATABASE_URL, jwt_secret=secret, sweep_interval_seconds=3600.0, **overrides))
    recorder = RecordingApp(app)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        recorder, host="127.0.0.1", port=port, loop="asyncio", lifespan="on",
        log_config=None, access_log=False,
    )
    server = uvicorn.Server(config)
    # Not the main thread, so uvicorn installs no signal handlers.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "inventory-api exited during start-up"
        assert time.monotonic() < deadline, "inventory-api did not start"
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "inventory-api did not stop"

    return LiveInventory(app, recorder, f"http://127.0.0.1:{port}"), stop


@pytest.fixture
def inventory() -> Iterator[LiveInventory]:
    """A fresh inventory-api (stock INVENTORY_SEED) sharing orders-api's signing key."""
    live, stop = serve_inventory()
    try:
        yield live
    finally:
        stop()
