"""fx_service_kit.auth: what both services rely on, tested once against a minimal app."""

import os
import time

import pytest

from conftest import SECRET, KitSettings, create_app, make_token
from fx_service_kit.auth import MIN_KEY_BYTES, SecretSource
from fx_service_kit.config import ConfigError
from fx_service_kit.testing import assert_401, bearer, invalid_tokens

INVALID_TOKENS = invalid_tokens(make_token, "alice")


def test_valid_token_gives_the_principal(client):
    resp = client.get("/items/1", headers=bearer(make_token(sub="bob")))
    assert resp.status_code == 200
    assert resp.json() == {"item_id": 1, "subject": "bob"}


def test_missing_token_is_rejected(client):
    assert_401(client.get("/items/1"), "missing bearer token")


def test_expired_token_is_rejected_past_the_leeway_only(client):
    resp = client.get("/items/1", headers=bearer(make_token(expires_in=-120)))
    assert_401(resp, "token expired")
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert client.get("/items/1", headers=bearer(make_token(expires_in=-5))).status_code == 200


@pytest.mark.parametrize("token", list(INVALID_TOKENS.values()), ids=list(INVALID_TOKENS))
def test_invalid_tokens_are_rejected(client, token):
    assert_401(client.get("/items/1", headers=bearer(token)), "invalid token")


def test_audience_and_issuer_are_enforced_when_configured(app_factory):
    client = app_factory(jwt_audience="orders-api", jwt_issuer="https://auth.example.test")
    good = make_token(aud="orders-api", iss="https://auth.example.test")
    assert client.get("/items/1", headers=bearer(good)).status_code == 200
    for token in (
        make_token(iss="https://auth.example.test"),  # no aud
        make_token(aud="other-api", iss="https://auth.example.test"),
        make_token(aud="orders-api", iss="https://evil.example.test"),
    ):
        assert_401(client.get("/items/1", headers=bearer(token)), "invalid token")


def test_key_from_secret_file_and_rotation(app_factory, tmp_path):
    key_file = tmp_path / "jwt-secret"
    key_file.write_text(SECRET + "\n")  # kubectl-created secrets often end in a newline
    client = app_factory(jwt_secret=None, jwt_secret_file=str(key_file))
    assert client.get("/items/1", headers=bearer(make_token())).status_code == 200

    rotated = "rotated-signing-key-0123456789abcdefghijklmnop"
    key_file.write_text(rotated)
    os.utime(key_file, (time.time() + 10, time.time() + 10))  # a distinct mtime
    assert client.get("/items/1", headers=bearer(make_token())).status_code == 401
    assert client.get("/items/1", headers=bearer(make_token(secret=rotated))).status_code == 200


def test_secret_file_vanishing_mid_rotation_keeps_the_cached_key(tmp_path):
    key_file = tmp_path / "jwt-secret"
    key_file.write_text(SECRET)
    source = SecretSource(path=str(key_file))
    key_file.unlink()
    assert source.get() == SECRET.encode()


def test_short_signing_key_is_refused_at_startup():
    with pytest.raises(ConfigError, match=f"at least {MIN_KEY_BYTES} bytes"):
        create_app(KitSettings(jwt_secret="too-short"))


def test_missing_secret_file_is_refused_at_startup(tmp_path):
    with pytest.raises(ConfigError, match="not readable"):
        create_app(KitSettings(jwt_secret=None, jwt_secret_file=str(tmp_path / "absent")))


def test_exactly_one_secret_source():
    with pytest.raises(ConfigError, match="exactly one"):
        SecretSource(value=SECRET, path="/f")
    with pytest.raises(ConfigError, match="exactly one"):
        SecretSource()
