import inspect
import time

import psycopg

from conftest import DATABASE_URL, VALID_ORDER
from fx_service_kit.testing import assert_problem
from orders_api.migrate import apply_migrations


def test_healthz_is_ok_without_auth(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_healthz_does_not_need_the_database(app_factory, unused_port):
    client = app_factory(
        database_url=f"postgresql://nobody:x@127.0.0.1:{unused_port}/none",
        readiness_timeout_seconds=0.5,
    )
    assert client.get("/healthz").status_code == 200


def test_readyz_ok_when_database_reachable_and_migrated(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_503_when_database_unreachable(app_factory, unused_port):
    client = app_factory(
        database_url=f"postgresql://nobody:x@127.0.0.1:{unused_port}/none",
        readiness_timeout_seconds=0.5,
    )
    resp = client.get("/readyz")
    assert assert_problem(resp, 503, "database unreachable")["reason"] == "database unreachable"
    assert resp.headers["retry-after"] == "5"


def test_readyz_503_until_migrations_are_applied(app_factory, scratch_db):
    client = app_factory(database_url=scratch_db)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["reason"] == "migrations pending"

    apply_migrations(scratch_db)
    assert client.get("/readyz").status_code == 200


def test_request_id_is_generated_and_echoed(client):
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_openapi_documents_bearer_auth(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"/orders", "/orders/{order_id}", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


def test_liveness_runs_on_the_event_loop_not_the_worker_pool(client):
    healthz = next(r for r in client.app.routes if getattr(r, "path", None) == "/healthz")
    assert inspect.iscoroutinefunction(healthz.endpoint)


def test_database_outage_is_503_with_retry_after_and_liveness_stays_fast(app_factory, unused_port, auth):
    client = app_factory(database_url=f"postgresql://nobody:x@127.0.0.1:{unused_port}/none",
                         db_timeout_seconds=1.0, readiness_timeout_seconds=0.5)
    resp = client.post("/orders", json=VALID_ORDER, headers=auth)
    assert_problem(resp, 503, "database unavailable; try again later")
    assert resp.headers["retry-after"] == "5"
    assert_problem(client.get("/orders", headers=auth), 503)
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.5


def test_dead_pooled_connections_cost_no_failed_request(app_factory, auth):
    """What a database restart does to the pool: every pooled connection dies."""
    client = app_factory(db_pool_min_size=3, db_pool_max_size=3)
    assert client.get("/orders", headers=auth).status_code == 200
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'orders-api' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert killed >= 1
    for _ in range(5):
        assert client.get("/orders", headers=auth).status_code == 200
