import uuid

import pytest

from conftest import bearer, make_settings, make_token
from fx_service_kit.testing import assert_401, invalid_tokens
from inventory_api.app import create_app
from inventory_api.config import ConfigError

PROTECTED = [
    ("GET", "/inventory/WIDGET-42", None),
    ("POST", "/inventory/WIDGET-42/reservations", {"quantity": 1}),
    ("DELETE", f"/inventory/reservations/{uuid.uuid4()}", None),
    ("GET", f"/inventory/reservations/{uuid.uuid4()}", None),
    ("POST", f"/inventory/reservations/{uuid.uuid4()}/confirm", None),
]
PROTECTED_IDS = ["get-stock", "reserve", "release", "get-reservation", "confirm"]
INVALID_TOKENS = invalid_tokens(make_token, "orders-api")


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


@pytest.mark.parametrize("token", list(INVALID_TOKENS.values()), ids=list(INVALID_TOKENS))
def test_invalid_tokens_are_rejected(client, token):
    assert_401(client.get("/inventory/WIDGET-42", headers=bearer(token)), "invalid token")


def test_non_bearer_scheme_is_rejected(client):
    resp = client.get("/inventory/WIDGET-42", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert_401(resp, "missing bearer token")


def test_auth_is_checked_before_validation(client):
    assert client.post("/inventory/WIDGET-42/reservations", json={"quantity": -1}).status_code == 401
    assert client.get("/inventory/not-a-sku").status_code == 401
    assert client.delete("/inventory/reservations/not-a-uuid").status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "orders-api"},  # an end user's token for orders-api
        {"aud": None},
        {"iss": "https://evil.example.test"},
        {"iss": None},
        {"iat": None},
        {"expires_in": 7200},  # longer than the maximum lifetime (3600 s)
    ],
    ids=["user-token", "no-aud", "other-issuer", "no-iss", "no-iat", "too-long-lived"],
)
def test_only_service_tokens_for_this_audience_are_accepted(client, claims):
    assert_401(client.get("/inventory/WIDGET-42", headers=bearer(make_token(**claims))), "invalid token")


def test_rejected_requests_change_nothing(client, auth):
    before = client.get("/inventory/WIDGET-42", headers=auth).json()
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 1}, headers={"Idempotency-Key": "k"})
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 1},
                headers={**bearer(make_token(expires_in=-120)), "Idempotency-Key": "k"})
    assert client.get("/inventory/WIDGET-42", headers=auth).json() == before


def test_short_signing_key_is_refused_at_startup():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(make_settings(jwt_secret="too-short"))
