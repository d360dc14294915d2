import io
import json
import os
import re
import uuid

import httpx

from conftest import SECRET, SERVICE_ROOT, bearer, make_token, reset_stock
from fx_service_kit.testing import KIT_ROOT, Served, image_command, json_lines, on_loopback
from fx_service_kit.testing import check_metrics_endpoint, sample
from inventory_api.logs import configure_logging


def test_metrics_endpoint_exposes_prometheus_text(client):
    check_metrics_endpoint(client, "inventory_units gauge")


def test_requests_are_counted_by_route_template_and_status(client, auth):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/inventory/WIDGET-42", headers=auth)  # 200
    client.get("/inventory/NOPE-1", headers=auth)  # 404
    client.get("/inventory/GADGET-7")  # 401
    client.get("/inventory/lower-case", headers=auth)  # 422
    created = client.post("/inventory/WIDGET-42/reservations", json={"quantity": 2}, headers={**auth, "Idempotency-Key": "a"})  # 201
    client.post("/inventory/GADGET-7/reservations", json={"quantity": 99}, headers={**auth, "Idempotency-Key": "b"})  # 409
    client.delete(f"/inventory/reservations/{created.json()['id']}", headers=auth)  # 204
    client.delete(f"/inventory/reservations/{uuid.uuid4()}", headers=auth)  # 404
    client.get("/no/such/path")

    text = client.get("/metrics").text

    def requests(method, route, status):
        return sample(text, "http_requests_total", method=method, route=route, status=status)

    assert requests("GET", "/healthz", "200") == 2
    assert requests("GET", "/inventory/{sku}", "200") == 1
    assert requests("GET", "/inventory/{sku}", "404") == 1
    # Tokens are checked before routing (and before any body is read): 401s carry no route.
    assert requests("GET", "<unmatched>", "401") == 1
    assert requests("GET", "/inventory/{sku}", "422") == 1
    assert requests("POST", "/inventory/{sku}/reservations", "201") == 1
    assert requests("POST", "/inventory/{sku}/reservations", "409") == 1
    assert requests("DELETE", "/inventory/reservations/{reservation_id}", "204") == 1
    assert requests("DELETE", "/inventory/reservations/{reservation_id}", "404") == 1
    assert requests("GET", "<unmatched>", "404") == 1
    # raw SKUs and ids never become route label values
    assert not re.search(r'route="/inventory/(WIDGET|NOPE|GADGET|lower|reservations/[0-9a-f]{8})', text)
    count = sample(text, "http_request_duration_seconds_count", method="GET", route="/healthz", status="200")
    assert count == 2
    assert sample(text, "inventory_reservations_total", outcome="created") == 1
    assert sample(text, "inventory_reservations_total", outcome="insufficient_stock") == 1
    assert sample(text, "inventory_reservations_released_total") == 1


def test_stock_levels_are_exported_per_seeded_sku(client, auth):
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 3}, headers={**auth, "Idempotency-Key": "g"})
    client.get("/inventory/NOT-SEEDED", headers=auth)
    text = client.get("/metrics").text
    assert sample(text, "inventory_units", sku="WIDGET-42", state="available") == 7
    assert sample(text, "inventory_units", sku="WIDGET-42", state="reserved") == 3
    assert sample(text, "inventory_units", sku="GADGET-7", state="available") == 3
    assert sample(text, "inventory_reservations_open") == 1
    assert 'sku="NOT-SEEDED"' not in text  # requests never add label values


def test_requests_produce_json_logs(client, auth):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    headers = {**bearer(make_token(sub="orders-api")), "X-Request-ID": "trace-me"}
    resp = client.post("/inventory/WIDGET-42/reservations", json={"quantity": 2}, headers={**headers, "Idempotency-Key": "d"})
    assert resp.status_code == 201
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 50}, headers={**headers, "Idempotency-Key": "e"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    created = next(line for line in lines if line["msg"] == "reservation created")
    assert created["request_id"] == "trace-me" and created["subject"] == "orders-api"
    assert created["reservation_id"] == resp.json()["id"] and created["quantity"] == 2
    refused = next(line for line in lines if line["msg"] == "reservation refused")
    assert (refused["requested"], refused["available"]) == (50, 8)
    access = next(line for line in lines if line["msg"] == "request")
    assert access["route"] == "/inventory/{sku}/reservations" and access["status"] == 201
    assert access["method"] == "POST" and access["request_id"] == "trace-me" and access["duration_ms"] >= 0


def test_uvicorn_serves_the_app_factory_like_the_image(unused_port, tmp_path):
    """Start the exact command the Dockerfile runs and talk to it over real HTTP."""
    cmd = image_command(SERVICE_ROOT / "Dockerfile", 8080)
    assert cmd[:5] == ["python3", "-m", "uvicorn", "--factory", "inventory_api.app:create_app"]

    key_file = tmp_path / "jwt-secret"  # as a mounted Kubernetes secret
    key_file.write_text(SECRET)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "INVENTORY_"))}
    env.update(
        JWT_SECRET_FILE=str(key_file),
        INVENTORY_SEED='{"BOLT-M8": 2}',
        PYTHONPATH=os.pathsep.join([str(SERVICE_ROOT), str(KIT_ROOT)]),  # the image's /app
        PYTHONDONTWRITEBYTECODE="1",
    )
    reset_stock(seed={"BOLT-M8": 2})  # what the migration Job seeds from INVENTORY_SEED
    with Served(on_loopback(cmd, unused_port), env, tmp_path, unused_port) as server:
        base = server.url
        auth = bearer(make_token())
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{base}/inventory/BOLT-M8", timeout=5).status_code == 401
        assert httpx.get(f"{base}/inventory/BOLT-M8", headers=auth, timeout=5).json()["available"] == 2
        resp = httpx.post(f"{base}/inventory/BOLT-M8/reservations", json={"quantity": 3},
                          headers={**auth, "Idempotency-Key": "f"}, timeout=5)
        assert resp.status_code == 409
    lines = json_lines(server.output)  # every line is JSON
    messages = [line["msg"] for line in lines]
    assert "inventory-api started" in messages and "inventory-api stopped" in messages
    assert any(m.startswith("Uvicorn running on") for m in messages)
    assert any(line.get("status") == 401 and line.get("path") == "/inventory/BOLT-M8" for line in lines)
    # one access log line per request, the app's own; probes are at DEBUG, so absent at INFO
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    access = [(line["path"], line["status"]) for line in lines if line["msg"] == "request"]
    assert access == [("/inventory/BOLT-M8", 401), ("/inventory/BOLT-M8", 200), ("/inventory/BOLT-M8/reservations", 409)]
    assert list(tmp_path.iterdir()) == [key_file]  # nothing written to the working directory
