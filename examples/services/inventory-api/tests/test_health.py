from fastapi.testclient import TestClient

import time

from conftest import bearer, make_settings, make_token, reserve
from fx_service_kit.testing import assert_problem
from inventory_api.app import create_app


def test_healthz_is_ok_without_auth(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_ok_once_started(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_503_before_startup_and_after_shutdown():
    client = TestClient(create_app(make_settings()))
    # Without the context manager the startup event has not run.
    resp = client.get("/readyz")
    assert assert_problem(resp, 503, "not started")["reason"] == "not started"
    assert client.get("/healthz").status_code == 200  # alive, just not ready

    with client:
        assert client.get("/readyz").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_request_id_is_generated_and_echoed(client):
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_openapi_documents_bearer_auth_and_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert set(spec["paths"]) == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/inventory/{sku}",
        "/inventory/{sku}/reservations",
        "/inventory/reservations/{reservation_id}",
        "/inventory/reservations/{reservation_id}/confirm",
    }
    sku_param = spec["paths"]["/inventory/{sku}"]["get"]["parameters"][0]
    assert sku_param["schema"]["pattern"] == r"^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$"


def test_database_outage_is_503_with_retry_after_and_liveness_stays_up(app_factory, unused_port):
    # Nothing listens on unused_port: the database is "down".
    client = app_factory(database_url=f"postgresql://inventory:x@127.0.0.1:{unused_port}/inventory",
                         db_timeout_seconds=1.0, readiness_timeout_seconds=1.0)
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.5
    ready = client.get("/readyz")
    assert assert_problem(ready, 503, "database unreachable")["reason"] == "database unreachable"
    assert ready.headers["retry-after"] == "5"
    for resp in (reserve(client), client.get("/inventory/WIDGET-42", headers=bearer(make_token()))):
        assert_problem(resp, 503, "database unavailable; try again later")
        assert resp.headers["retry-after"] == "5"


def test_readyz_503_while_migrations_are_pending(app_factory, db):
    db.execute("CREATE DATABASE inventory_unmigrated")
    try:
        from psycopg.conninfo import make_conninfo

        from conftest import DATABASE_URL

        client = app_factory(database_url=make_conninfo(DATABASE_URL, dbname="inventory_unmigrated"))
        assert_problem(client.get("/readyz"), 503, "migrations pending")
        client.app.state.pool.close()
    finally:
        db.execute("DROP DATABASE inventory_unmigrated WITH (FORCE)")
