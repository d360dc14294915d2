"""fx_service_kit.auth: what both services rely on, tested once against a minimal app."""

import os
import time

import pytest

from conftest import AUDIENCE, ISSUER, SECRET, KitSettings, create_app, make_token
from fx_service_kit.auth import MIN_KEY_BYTES, Principal, SecretSource, ServiceTokens, TokenVerifier
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


def test_audience_issuer_and_issued_at_are_always_required(app_factory):
    client = app_factory(jwt_audience="orders-api", jwt_issuer="https://auth.example.test")
    good = make_token(aud="orders-api", iss="https://auth.example.test")
    assert client.get("/items/1", headers=bearer(good)).status_code == 200
    for token in (
        make_token(aud=None, iss="https://auth.example.test"),  # no aud
        make_token(aud="orders-api", iss=None),  # no iss
        make_token(aud="orders-api", iss="https://auth.example.test", iat=None),  # no iat
        make_token(aud="other-api", iss="https://auth.example.test"),
        make_token(aud="orders-api", iss="https://evil.example.test"),
    ):
        assert_401(client.get("/items/1", headers=bearer(token)), "invalid token")


def test_token_lifetime_is_bounded(app_factory):
    client = app_factory(jwt_max_lifetime_seconds=600)
    assert client.get("/items/1", headers=bearer(make_token(expires_in=600))).status_code == 200
    assert_401(client.get("/items/1", headers=bearer(make_token(expires_in=601))), "invalid token")
    future = make_token(iat=int(time.time()) + 3600, expires_in=4000)
    assert_401(client.get("/items/1", headers=bearer(future)), "invalid token")


def test_empty_audience_or_issuer_is_refused_at_startup():
    with pytest.raises(ConfigError, match="JWT_AUDIENCE and JWT_ISSUER"):
        create_app(KitSettings(jwt_audience=""))


def test_scopes_come_from_the_scope_claim():
    verifier = TokenVerifier(KitSettings())
    principal = verifier.verify(make_token(scope="orders:admin orders:read"))
    assert principal.scopes == {"orders:admin", "orders:read"} and principal.has_scope("orders:admin")
    assert verifier.verify(make_token(scp=["a", 3])).scopes == {"a"}
    assert verifier.verify(make_token()).scopes == frozenset()


def test_service_tokens_verify_for_their_audience_and_are_reused():
    source = SecretSource(value=SECRET)
    tokens = ServiceTokens(source, ISSUER, "orders-api", AUDIENCE, lifetime=300)
    first = tokens.get()
    assert tokens.get() == first  # cached until half its lifetime
    principal = TokenVerifier(KitSettings()).verify(first)
    assert principal.subject == "orders-api"
    with pytest.raises(Exception):
        TokenVerifier(KitSettings(jwt_audience="inventory-api")).verify(first)


def test_bearer_gate_answers_401_before_the_body_is_read():
    import asyncio

    from fx_service_kit.auth import BearerGate

    reached = []

    async def app(scope, receive, send):
        reached.append(scope["state"]["principal"].subject)

    async def receive():
        raise AssertionError("the body was read")

    sent = []

    async def send(message):
        sent.append(message)

    gate = BearerGate(app, lambda: TokenVerifier(KitSettings()), ["/items"])
    scope = {"type": "http", "method": "POST", "path": "/items/1", "headers": [(b"authorization", b"Bearer x")]}
    asyncio.run(gate(scope, receive, send))
    assert sent[0]["status"] == 401 and reached == []
    good = f"Bearer {make_token(sub='bob')}".encode()
    asyncio.run(gate({**scope, "headers": [(b"authorization", good)]}, receive, send))
    assert reached == ["bob"]
    asyncio.run(gate({**scope, "path": "/healthz", "headers": [], "state": {"principal": Principal("x")}}, receive, send))
    assert reached == ["bob", "x"]  # outside the prefixes: passed through


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
