"""Fixtures. The suite needs a REAL PostgreSQL: DATABASE_URL must point at a
migrated database (run-tests.sh starts a throw-away cluster, migrates it and
exports DATABASE_URL). Every test starts from the stock TEST_SEED, with no
reservations.
"""

import os
import sys
import uuid
from functools import partial
from pathlib import Path
from typing import Dict, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

SERVICE_ROOT = Path(__file__).resolve().parents[1]
KIT_ROOT = SERVICE_ROOT.parent / "common"
sys.path.insert(0, str(SERVICE_ROOT))
sys.path.insert(1, str(KIT_ROOT))

from fx_service_kit import testing  # noqa: E402
from fx_service_kit.testing import app_factory, bearer, client, unused_port  # noqa: E402,F401
from inventory_api.app import create_app  # noqa: E402
from inventory_api.config import Settings  # noqa: E402
from inventory_api.migrate import apply_migrations, seed_stock  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "")
SECRET = "inventory-api-test-signing-key-0123456789abcdef"
ISSUER = "fx-platform"
AUDIENCE = "inventory-api"
# Every test starts from this stock (the default seed is tested separately).
TEST_SEED = {"WIDGET-42": 10, "GADGET-7": 3, "EMPTY-1": 0}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DATABASE_URL:
        pytest.exit("DATABASE_URL is not set: run the suite through run-tests.sh", returncode=2)
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.exit(f"cannot reach PostgreSQL at DATABASE_URL: {exc}", returncode=2)


def make_settings(**overrides) -> Settings:
    values = dict(database_url=DATABASE_URL, jwt_secret=SECRET, seed=TEST_SEED, sweep_interval_seconds=3600.0)
    values.update(overrides)
    return Settings(**values)


# A service token as orders-api mints it:
# make_token(sub="orders-api", expires_in=300, secret=SECRET, algorithm="HS256", iss=..., aud=..., **claims)
make_token = partial(testing.make_token, secret=SECRET, sub="orders-api", iss=ISSUER, aud=AUDIENCE)

# For the kit's app_factory/client fixtures (app_factory starts and stops each app).
build_app = testing.build_app_fixture(create_app, make_settings)
auth = testing.auth_fixture(make_token)


def reset_stock(url: str = DATABASE_URL, seed: Dict[str, int] = TEST_SEED) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE reservations, stock")
    seed_stock(url, seed)


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> str:
    apply_migrations(DATABASE_URL)
    return DATABASE_URL


@pytest.fixture(autouse=True)
def fresh_stock(migrated_database) -> None:
    reset_stock()


@pytest.fixture
def db() -> Iterator[psycopg.Connection]:
    """A direct connection for assertions on what the API really stored."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        yield conn


def stock(client: TestClient, sku: str) -> Dict[str, int]:
    resp = client.get(f"/inventory/{sku}", headers=bearer(make_token()))
    assert resp.status_code == 200, resp.text
    return resp.json()


def level(sku: str, available: int, reserved: int = 0, committed: int = 0) -> Dict[str, object]:
    return {"sku": sku, "available": available, "reserved": reserved, "committed": committed}


def reserve(api: TestClient, auth=None, sku="WIDGET-42", quantity=1, key=None):
    """POST a reservation with a fresh (or the given) Idempotency-Key."""
    headers = {**(auth or bearer(make_token())), "Idempotency-Key": key or uuid.uuid4().hex}
    return api.post(f"/inventory/{sku}/reservations", json={"quantity": quantity}, headers=headers)
