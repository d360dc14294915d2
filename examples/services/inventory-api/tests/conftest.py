"""Fixtures. The service keeps its stock in memory, so the suite needs no database."""

import sys
from functools import partial
from pathlib import Path
from typing import Dict

from fastapi.testclient import TestClient

SERVICE_ROOT = Path(__file__).resolve().parents[1]
KIT_ROOT = SERVICE_ROOT.parent / "common"
sys.path.insert(0, str(SERVICE_ROOT))
sys.path.insert(1, str(KIT_ROOT))

from fx_service_kit import testing  # noqa: E402
from fx_service_kit.testing import app_factory, bearer, client, unused_port  # noqa: E402,F401
from inventory_api.app import create_app  # noqa: E402
from inventory_api.config import Settings  # noqa: E402

SECRET = "inventory-api-test-signing-key-0123456789abcdef"
# Every test app starts from this stock (the default seed is tested separately).
TEST_SEED = {"WIDGET-42": 10, "GADGET-7": 3, "EMPTY-1": 0}


def make_settings(**overrides) -> Settings:
    values = dict(jwt_secret=SECRET, seed=TEST_SEED)
    values.update(overrides)
    return Settings(**values)


# make_token(sub="orders-api", expires_in=300, secret=SECRET, algorithm="HS256", **claims)
make_token = partial(testing.make_token, secret=SECRET, sub="orders-api")


# For the kit's app_factory/client fixtures (app_factory starts and stops each app).
build_app = testing.build_app_fixture(create_app, make_settings)
auth = testing.auth_fixture(make_token)


def stock(client: TestClient, sku: str) -> Dict[str, int]:
    resp = client.get(f"/inventory/{sku}", headers=bearer(make_token()))
    assert resp.status_code == 200, resp.text
    return resp.json()
