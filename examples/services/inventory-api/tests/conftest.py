"""Fixtures. The service keeps its stock in memory, so the suite needs no database."""

import socket
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator

import jwt
import pytest
from fastapi.testclient import TestClient

SERVICE_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SERVICE_ROOT))

from inventory_api.app import create_app  # noqa: E402
from inventory_api.config import Settings  # noqa: E402

SECRET = "inventory-api-test-signing-key-0123456789abcdef"
# Every test app starts from this stock (the default seed is tested separately).
TEST_SEED = {"WIDGET-42": 10, "GADGET-7": 3, "EMPTY-1": 0}


def make_settings(**overrides) -> Settings:
    values = dict(jwt_secret=SECRET, seed=TEST_SEED)
    values.update(overrides)
    return Settings(**values)


def make_token(
    sub: str = "orders-api",
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


@pytest.fixture
def app_factory() -> Iterator[Callable[..., TestClient]]:
    """Build an app with custom settings; started and stopped for the test."""
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
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stock(client: TestClient, sku: str) -> Dict[str, int]:
    resp = client.get(f"/inventory/{sku}", headers=bearer(make_token()))
    assert resp.status_code == 200, resp.text
    return resp.json()
