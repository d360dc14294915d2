import base64
import json
import os
import time
import uuid

import pytest

from conftest import SECRET, VALID_ORDER, bearer, make_settings, make_token
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


def _unsigned(payload: dict) -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def assert_401(resp, detail: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.json() == {"detail": detail}
    assert resp.headers["www-authenticate"].startswith("Bearer")


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


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        _unsigned({"sub": "alice", "exp": int(time.time()) + 300}),
        make_token(algorithm="HS512"),  # right key, algorithm not allowed
        make_token(exp=None),  # no exp claim
        make_token(sub=None),  # no sub claim
        make_token(sub=""),
    ],
    ids=["garbage", "malformed", "alg-none", "hs512", "no-exp", "no-sub", "empty-sub"],
)
def test_invalid_tokens_are_rejected(client, token):
    assert_401(client.get("/orders", headers=bearer(token)), "invalid token")


def test_non_bearer_scheme_is_rejected(client):
    resp = client.get("/orders", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert_401(resp, "missing bearer token")


def test_auth_is_checked_before_body_validation(client):
    resp = client.post("/orders", json={"quantity": -1})
    assert resp.status_code == 401


def test_valid_token_is_accepted(client):
    resp = client.get("/orders", headers=bearer(make_token()))
    assert resp.status_code == 200


def test_audience_and_issuer_are_enforced_when_configured(app_factory):
    client = app_factory(jwt_audience="orders-api", jwt_issuer="https://auth.example.test")
    good = make_token(aud="orders-api", iss="https://auth.example.test")
    assert client.get("/orders", headers=bearer(good)).status_code == 200
    for token in (
        make_token(iss="https://auth.example.test"),  # no aud
        make_token(aud="other-api", iss="https://auth.example.test"),
        make_token(aud="orders-api", iss="https://evil.example.test"),
    ):
        assert_401(client.get("/orders", headers=bearer(token)), "invalid token")


def test_key_from_secret_file_and_rotation(app_factory, tmp_path):
    key_file = tmp_path / "jwt-secret"
    key_file.write_text(SECRET + "\n")  # kubectl-created secrets often end in a newline
    client = app_factory(jwt_secret=None, jwt_secret_file=str(key_file))
    assert client.get("/orders", headers=bearer(make_token())).status_code == 200

    rotated = "rotated-signing-key-0123456789abcdefghijklmnop"
    key_file.write_text(rotated)
    os.utime(key_file, (time.time() + 10, time.time() + 10))  # a distinct mtime
    assert client.get("/orders", headers=bearer(make_token())).status_code == 401
    assert client.get("/orders", headers=bearer(make_token(secret=rotated))).status_code == 200


def test_short_signing_key_is_refused_at_startup():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(make_settings(jwt_secret="too-short"))


def test_missing_secret_file_is_refused_at_startup(tmp_path):
    with pytest.raises(ConfigError, match="not readable"):
        create_app(make_settings(jwt_secret=None, jwt_secret_file=str(tmp_path / "absent")))


@pytest.mark.parametrize(
    "env,message",
    [
        ({"JWT_SECRET": SECRET}, "DATABASE_URL is required"),
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
