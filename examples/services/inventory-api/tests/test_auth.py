import base64
import json
import os
import time
import uuid

import pytest

from conftest import SECRET, bearer, make_settings, make_token
from inventory_api.app import create_app
from inventory_api.config import ConfigError

PROTECTED = [
    ("GET", "/inventory/WIDGET-42", None),
    ("POST", "/inventory/WIDGET-42/reservations", {"quantity": 1}),
    ("DELETE", f"/inventory/reservations/{uuid.uuid4()}", None),
]
PROTECTED_IDS = ["get-stock", "reserve", "release"]


def _unsigned(payload: dict) -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def assert_401(resp, detail: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.json() == {"detail": detail}
    assert resp.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=PROTECTED_IDS)
def test_every_inventory_endpoint_requires_a_token(client, method, path, body):
    assert_401(client.request(method, path, json=body), "missing bearer token")


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=PROTECTED_IDS)
def test_every_inventory_endpoint_rejects_a_bad_signature(client, method, path, body):
    token = make_token(secret="another-signing-key-that-is-long-enough-000")
    assert_401(client.request(method, path, json=body, headers=bearer(token)), "invalid token")


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=PROTECTED_IDS)
def test_every_inventory_endpoint_rejects_an_expired_token(client, method, path, body):
    token = make_token(expires_in=-120)  # well past the 30 s leeway
    resp = client.request(method, path, json=body, headers=bearer(token))
    assert_401(resp, "token expired")
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]


def test_token_within_leeway_is_accepted(client):
    assert client.get("/inventory/WIDGET-42", headers=bearer(make_token(expires_in=-5))).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        _unsigned({"sub": "orders-api", "exp": int(time.time()) + 300}),
        make_token(algorithm="HS512"),  # right key, algorithm not allowed
        make_token(exp=None),  # no exp claim
        make_token(sub=None),  # no sub claim
        make_token(sub=""),
    ],
    ids=["garbage", "malformed", "alg-none", "hs512", "no-exp", "no-sub", "empty-sub"],
)
def test_invalid_tokens_are_rejected(client, token):
    assert_401(client.get("/inventory/WIDGET-42", headers=bearer(token)), "invalid token")


def test_non_bearer_scheme_is_rejected(client):
    resp = client.get("/inventory/WIDGET-42", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert_401(resp, "missing bearer token")


def test_auth_is_checked_before_validation(client):
    assert client.post("/inventory/WIDGET-42/reservations", json={"quantity": -1}).status_code == 401
    assert client.get("/inventory/not-a-sku").status_code == 401
    assert client.delete("/inventory/reservations/not-a-uuid").status_code == 401


def test_rejected_requests_change_nothing(client, auth):
    before = client.get("/inventory/WIDGET-42", headers=auth).json()
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 1})
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 1}, headers=bearer(make_token(expires_in=-120)))
    assert client.get("/inventory/WIDGET-42", headers=auth).json() == before


def test_audience_and_issuer_are_enforced_when_configured(app_factory):
    client = app_factory(jwt_audience="inventory-api", jwt_issuer="https://auth.example.test")
    good = make_token(aud="inventory-api", iss="https://auth.example.test")
    assert client.get("/inventory/WIDGET-42", headers=bearer(good)).status_code == 200
    for token in (
        make_token(iss="https://auth.example.test"),  # no aud
        make_token(aud="orders-api", iss="https://auth.example.test"),
        make_token(aud="inventory-api", iss="https://evil.example.test"),
    ):
        assert_401(client.get("/inventory/WIDGET-42", headers=bearer(token)), "invalid token")


def test_key_from_secret_file_and_rotation(app_factory, tmp_path):
    key_file = tmp_path / "jwt-secret"
    key_file.write_text(SECRET + "\n")  # kubectl-created secrets often end in a newline
    client = app_factory(jwt_secret=None, jwt_secret_file=str(key_file))
    assert client.get("/inventory/WIDGET-42", headers=bearer(make_token())).status_code == 200

    rotated = "rotated-signing-key-0123456789abcdefghijklmnop"
    key_file.write_text(rotated)
    os.utime(key_file, (time.time() + 10, time.time() + 10))  # a distinct mtime
    assert client.get("/inventory/WIDGET-42", headers=bearer(make_token())).status_code == 401
    assert client.get("/inventory/WIDGET-42", headers=bearer(make_token(secret=rotated))).status_code == 200


def test_short_signing_key_is_refused_at_startup():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(make_settings(jwt_secret="too-short"))


def test_missing_secret_file_is_refused_at_startup(tmp_path):
    with pytest.raises(ConfigError, match="not readable"):
        create_app(make_settings(jwt_secret=None, jwt_secret_file=str(tmp_path / "absent")))
