import uuid

import pytest

from conftest import SECRET, VALID_ORDER, bearer, make_settings, make_token
from fx_service_kit.testing import assert_401, invalid_tokens
from orders_api.app import create_app
from orders_api.config import ConfigError, Settings

SOME_ID = str(uuid.uuid4())
PROTECTED = [
    ("POST", "/orders", VALID_ORDER),
    ("GET", "/orders", None),
    ("GET", f"/orders/{SOME_ID}", None),
    ("PATCH", f"/orders/{SOME_ID}", {"quantity": 2}),
    ("DELETE", f"/orders/{SOME_ID}", None),
]
PROTECTED_IDS = ["create", "list", "get", "update", "delete"]
INVALID_TOKENS = invalid_tokens(make_token, "alice")


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=PROTECTED_IDS)
def test_every_order_endpoint_requires_a_token(client, method, path, body):
    assert_401(client.request(method, path, json=body), "missing bearer token")


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=PROTECTED_IDS)
def test_every_order_endpoint_rejects_a_bad_signature(client, method, path, body):
    token = make_token(secret="another-signing-key-that-is-long-enough-000")
    assert_401(client.request(method, path, json=body, headers=bearer(token)), "invalid token")


def test_expired_token_is_rejected(client):
    token = make_token(expires_in=-120)  # well past the 30 s leeway
    resp = client.get("/orders", headers=bearer(token))
    assert_401(resp, "token expired")
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]


def test_token_within_leeway_is_accepted(client):
    assert client.get("/orders", headers=bearer(make_token(expires_in=-5))).status_code == 200


@pytest.mark.parametrize("token", list(INVALID_TOKENS.values()), ids=list(INVALID_TOKENS))
def test_invalid_tokens_are_rejected(client, token):
    assert_401(client.get("/orders", headers=bearer(token)), "invalid token")


def test_non_bearer_scheme_is_rejected(client):
    resp = client.get("/orders", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert_401(resp, "missing bearer token")


@pytest.mark.parametrize(
    "claims",
    [{"aud": "inventory-api"}, {"aud": None}, {"iss": "https://evil.example.test"}, {"iss": None},
     {"iat": None}, {"expires_in": 7200}],
    ids=["service-audience", "no-aud", "other-issuer", "no-iss", "no-iat", "too-long-lived"],
)
def test_tokens_need_this_audience_issuer_and_a_bounded_lifetime(client, claims):
    assert_401(client.get("/orders", headers=bearer(make_token(**claims))), "invalid token")


def test_settings_read_pg_variables_when_database_url_is_unset():
    settings = Settings.from_env({"PGHOST": "db.internal", "PGPORT": "5432", "PGUSER": "orders",
                                  "PGPASSWORD": "pw", "PGDATABASE": "orders", "JWT_SECRET": SECRET})
    assert "host=db.internal" in settings.database_url and "dbname=orders" in settings.database_url


def test_auth_is_checked_before_body_validation(client):
    resp = client.post("/orders", json={"quantity": -1})
    assert resp.status_code == 401


def test_valid_token_is_accepted(client):
    resp = client.get("/orders", headers=bearer(make_token()))
    assert resp.status_code == 200


def test_short_signing_key_is_refused_at_startup():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(make_settings(jwt_secret="too-short"))


@pytest.mark.parametrize(
    "env,message",
    [
        ({"JWT_SECRET": SECRET}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://x"}, "JWT_SECRET or JWT_SECRET_FILE"),
        ({"DATABASE_URL": "postgresql://x", "JWT_SECRET": SECRET, "JWT_SECRET_FILE": "/f"}, "only one"),
        ({"DATABASE_URL": "postgresql://x", "JWT_SECRET": SECRET, "DB_POOL_MAX_SIZE": "many"}, "integer"),
    ],
)
def test_settings_from_env_rejects_bad_configuration(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_settings_from_env_reads_all_variables():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@db:5432/orders",
            "JWT_SECRET_FILE": "/var/run/secrets/jwt/key",
            "JWT_AUDIENCE": "orders-api",
            "DB_POOL_MAX_SIZE": "4",
            "LOG_LEVEL": "debug",
            "OTEL_SERVICE_NAME": "orders",
        }
    )
    assert settings.database_url == "postgresql://u:p@db:5432/orders"
    assert settings.jwt_secret is None and settings.jwt_secret_file == "/var/run/secrets/jwt/key"
    assert settings.jwt_audience == "orders-api"
    assert settings.db_pool_max_size == 4
    assert settings.log_level == "DEBUG"
    assert settings.service_name == "orders"
