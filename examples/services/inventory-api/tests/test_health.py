from fastapi.testclient import TestClient

from conftest import make_settings
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
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "reason": "not started"}
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
    }
    sku_param = spec["paths"]["/inventory/{sku}"]["get"]["parameters"][0]
    assert sku_param["schema"]["pattern"] == r"^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$"
