"""fx_service_kit.problems: one error format, and hostile input stopped before parsing."""

import asyncio
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from fx_service_kit.db import DatabaseUnavailable
from fx_service_kit.observability import HttpMetrics, ObservabilityMiddleware
from fx_service_kit.problems import InputGuardMiddleware, install_problem_handlers
from fx_service_kit.testing import assert_problem

MARKER = "SECRET-BODY-MARKER-7f3a"


class Item(BaseModel):
    name: str
    count: int


@pytest.fixture
def guarded():
    app = FastAPI()
    install_problem_handlers(app, with_database=True)
    seen = []

    @app.post("/items")
    def create(item: Item) -> dict:
        seen.append(item.name)
        return {"name": item.name}

    @app.get("/items")
    def search(q: str = "") -> dict:
        return {"q": q}

    @app.get("/down")
    def down() -> dict:
        raise DatabaseUnavailable("no database connection")

    app.add_middleware(InputGuardMiddleware, max_body_bytes=1024)
    app.add_middleware(ObservabilityMiddleware, metrics=HttpMetrics(), access_log=__import__("logging").getLogger("t"))
    with TestClient(app) as client:
        client.seen = seen
        yield client


def post_raw(client, body: bytes):
    return client.post("/items", content=body, headers={"Content-Type": "application/json"})


def test_valid_body_passes_through(guarded):
    resp = guarded.post("/items", json={"name": "bolt", "count": 1})
    assert resp.status_code == 200 and guarded.seen == ["bolt"]


def test_body_over_the_limit_is_413_from_content_length(guarded):
    resp = guarded.post("/items", json={"name": "x" * 2000, "count": 1})
    assert_problem(resp, 413, "request body exceeds 1024 bytes")
    assert guarded.seen == []


def test_streamed_body_over_the_limit_is_413():
    sent = []

    async def app(scope, receive, send):
        raise AssertionError("reached the app")

    chunks = iter([{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 3)

    async def receive():
        return next(chunks)

    async def send(message):
        sent.append(message)

    guard = InputGuardMiddleware(app, max_body_bytes=1024)
    asyncio.run(guard({"type": "http", "method": "POST", "path": "/items", "headers": []}, receive, send))
    assert sent[0]["status"] == 413


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "a\\u0000b", "count": 1}',
        b'{"name": "\\ud800", "count": 1}',
        b'{"na\\u0000me": "x", "count": 1}',
        b'{"name": "\xff\xfe", "count": 1}',
        b'{"name": "a\x00b", "count": 1}',
    ],
    ids=["escaped-nul", "lone-surrogate", "nul-in-key", "invalid-utf8", "raw-nul"],
)
def test_nul_and_invalid_unicode_are_422(guarded, body):
    assert_problem(post_raw(guarded, body), 422)
    assert guarded.seen == []


@pytest.mark.parametrize("query", ["q=a%00b", "q=%ff%fe", "q=%ed%a0%80"], ids=["nul", "invalid-utf8", "surrogate"])
def test_bad_query_strings_are_422(guarded, query):
    assert_problem(guarded.get(f"/items?{query}"), 422)


def test_validation_errors_never_echo_the_body(guarded):
    resp = guarded.post("/items", json={"name": MARKER, "count": MARKER, MARKER * 3: 1})
    body = assert_problem(resp, 422, "request validation failed")
    assert MARKER * 3 not in resp.text and f'"{MARKER}"' not in resp.text
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "count")}
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])


def test_not_found_and_database_outage_use_the_same_format(guarded):
    assert_problem(guarded.get("/nope"), 404, "Not Found")
    resp = guarded.get("/down")
    assert_problem(resp, 503, "database unavailable; try again later")
    assert resp.headers["retry-after"] == "5"
    assert json.loads(resp.text)["instance"] == "/down"
