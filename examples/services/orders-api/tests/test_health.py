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
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "reason": "database unreachable"}


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
