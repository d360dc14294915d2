import json
import re

import pytest

from conftest import DATABASE_URL, SECRET, SERVICE_ROOT, bearer, make_token, reset_stock
from inventory_api.app import create_app
from inventory_api.config import DEFAULT_SEED, ConfigError, Settings
from inventory_api.models import SKU_PATTERN
from fastapi.testclient import TestClient


DB = {"DATABASE_URL": "postgresql://inventory@db.internal/inventory"}


@pytest.mark.parametrize(
    "env,message",
    [
        ({"JWT_SECRET": SECRET}, "DATABASE_URL"),
        ({**DB}, "JWT_SECRET or JWT_SECRET_FILE"),
        ({**DB, "JWT_SECRET": SECRET, "JWT_SECRET_FILE": "/f"}, "only one"),
        ({**DB, "JWT_SECRET": SECRET, "JWT_LEEWAY_SECONDS": "soon"}, "integer"),
        ({**DB, "JWT_SECRET": SECRET, "JWT_LEEWAY_SECONDS": "-1"}, ">= 0"),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": "{not json"}, "not valid JSON"),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": "[1, 2]"}, "JSON object"),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"widget-42": 1}'}, "not a valid SKU"),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET--42": 1}'}, "not a valid SKU"),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET-42": -1}'}, "integer 0.."),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET-42": 1.5}'}, "integer 0.."),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET-42": "5"}'}, "integer 0.."),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET-42": true}'}, "integer 0.."),
        ({**DB, "JWT_SECRET": SECRET, "INVENTORY_SEED": '{"WIDGET-42": 1000000001}'}, "integer 0.."),
    ],
)
def test_settings_from_env_rejects_bad_configuration(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_settings_from_env_reads_all_variables():
    settings = Settings.from_env(
        {
            **DB,
            "JWT_SECRET_FILE": "/var/run/secrets/jwt/key",
            "JWT_MAX_LIFETIME_SECONDS": "600",
            "RESERVATION_TTL_SECONDS": "30",
            "JWT_AUDIENCE": "inventory-api",
            "JWT_ISSUER": "https://auth.example.test",
            "JWT_LEEWAY_SECONDS": "5",
            "INVENTORY_SEED": json.dumps({"BOLT-M8": 500, "NUT-M8": 0}),
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.jwt_secret is None and settings.jwt_secret_file == "/var/run/secrets/jwt/key"
    assert (settings.jwt_audience, settings.jwt_issuer) == ("inventory-api", "https://auth.example.test")
    assert settings.jwt_leeway_seconds == 5
    assert (settings.jwt_max_lifetime_seconds, settings.reservation_ttl_seconds) == (600, 30)
    assert settings.database_url == DB["DATABASE_URL"]
    assert dict(settings.seed) == {"BOLT-M8": 500, "NUT-M8": 0}
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_default_seed_when_inventory_seed_is_unset_or_blank(raw):
    env = {**DB, "JWT_SECRET": SECRET}
    if raw is not None:
        env["INVENTORY_SEED"] = raw
    assert dict(Settings.from_env(env).seed) == dict(DEFAULT_SEED)


def test_seed_given_in_code_is_validated_and_frozen():
    with pytest.raises(ConfigError, match="not a valid SKU"):
        Settings(database_url=DATABASE_URL, jwt_secret=SECRET, seed={"bad sku": 1})
    seed = {"WIDGET-42": 1}
    settings = Settings(database_url=DATABASE_URL, jwt_secret=SECRET, seed=seed)
    seed["WIDGET-42"] = 99  # the caller's dict is copied
    assert settings.seed["WIDGET-42"] == 1
    with pytest.raises(TypeError):
        settings.seed["WIDGET-42"] = 2  # type: ignore[index]


def test_migration_command_seeds_missing_skus_only(monkeypatch):
    from inventory_api.migrate import main

    reset_stock(seed={})
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("INVENTORY_SEED", '{"BOLT-M8": 7}')
    assert main([]) == 0
    with TestClient(create_app()) as client:
        auth = bearer(make_token())
        assert client.get("/inventory/BOLT-M8", headers=auth).json()["available"] == 7
        assert client.get("/inventory/WIDGET-42", headers=auth).status_code == 404  # not in this seed
        client.post("/inventory/BOLT-M8/reservations", json={"quantity": 5}, headers={**auth, "Idempotency-Key": "x"})
    monkeypatch.setenv("INVENTORY_SEED", '{"BOLT-M8": 100, "NUT-M8": 1}')
    assert main([]) == 0  # a re-run (the next release) keeps what was sold
    with TestClient(create_app()) as client:
        auth = bearer(make_token())
        assert client.get("/inventory/BOLT-M8", headers=auth).json()["available"] == 2
        assert client.get("/inventory/NUT-M8", headers=auth).json()["available"] == 1


def test_default_seed_is_valid_and_stocks_the_orders_api_example_sku():
    assert Settings(database_url=DATABASE_URL, jwt_secret=SECRET).seed == DEFAULT_SEED
    assert DEFAULT_SEED["WIDGET-42"] > 0


def test_sku_pattern_matches_orders_api():
    """orders-api validates order SKUs with the same rule; keep the two in step."""
    orders_models = SERVICE_ROOT.parent / "orders-api" / "orders_api" / "models.py"
    if not orders_models.is_file():
        pytest.skip("orders-api is not next to this service")
    match = re.search(r'^SKU_PATTERN = r"(.*)"$', orders_models.read_text(), re.MULTILINE)
    assert match, "SKU_PATTERN not found in orders-api"
    assert match[1] == SKU_PATTERN
