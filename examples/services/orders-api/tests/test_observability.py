import io
import json
import os
import re
import uuid

import httpx

from conftest import DATABASE_URL, SECRET, SERVICE_ROOT, VALID_ORDER
from fx_service_kit.testing import KIT_ROOT, Served, image_command, json_lines, on_loopback
from fx_service_kit.testing import check_metrics_endpoint, sample
from orders_api.logs import configure_logging
from orders_api.tracing import setup_tracing


def test_metrics_endpoint_exposes_prometheus_text(client):
    check_metrics_endpoint(client)


def test_requests_are_counted_by_route_template_and_status(client, auth):
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/orders/{uuid.uuid4()}", headers=auth)  # 404
    client.get(f"/orders/{uuid.uuid4()}")  # 401
    client.post("/orders", json=VALID_ORDER, headers=auth)  # 201
    client.get("/no/such/path")

    text = client.get("/metrics").text
    assert sample(text, "http_requests_total", method="GET", route="/healthz", status="200") == 2
    assert sample(text, "http_requests_total", method="GET", route="/orders/{order_id}", status="404") == 1
    # Tokens are checked before routing (and before any body is read): 401s carry no route.
    assert sample(text, "http_requests_total", method="GET", route="<unmatched>", status="401") == 1
    assert sample(text, "http_requests_total", method="POST", route="/orders", status="201") == 1
    assert sample(text, "http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    # raw ids never become label values
    assert not re.search(r'route="/orders/[0-9a-f]{8}-', text)
    assert sample(text, "http_request_duration_seconds_count", method="GET", route="/healthz", status="200") == 2
    assert sample(text, "orders_created_total") == 1


def test_requests_produce_json_access_logs(client, auth):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    resp = client.post("/orders", json=VALID_ORDER, headers={**auth, "X-Request-ID": "trace-me"})
    assert resp.status_code == 201
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    created = next(line for line in lines if line["msg"] == "order created")
    assert created["request_id"] == "trace-me" and created["subject"] == "alice"
    access = next(line for line in lines if line["msg"] == "request")
    assert access["route"] == "/orders" and access["status"] == 201 and access["method"] == "POST"
    assert access["request_id"] == "trace-me" and access["duration_ms"] >= 0


def test_platform_otlp_endpoint_selects_the_otlp_exporter(monkeypatch, app_factory):
    # What FxMicroservice sets on the pod.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://cloudwatch-agent.amazon-cloudwatch:4318")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.namespace=orders-api,deployment.environment=prod")
    tracer = app_factory().app.state.tracer
    (exporter,) = tracer.exporters
    assert exporter.endpoint == "http://cloudwatch-agent.amazon-cloudwatch:4318/v1/traces"
    assert exporter.resource["service.namespace"] == "orders-api"


def test_tracing_can_be_disabled_explicitly(monkeypatch):
    from fastapi import FastAPI

    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")
    assert setup_tracing(FastAPI(), "orders-api").exporters == []


def test_log_lines_carry_the_trace_id_of_the_request(client, auth):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    trace_id = "5f0000001234567890abcdef12345678"
    resp = client.post("/orders", json=VALID_ORDER,
                       headers={**auth, "traceparent": f"00-{trace_id}-1234567890abcdef-01"})
    assert resp.status_code == 201
    created = next(json.loads(line) for line in stream.getvalue().splitlines() if '"order created"' in line)
    assert created["trace_id"] == trace_id and len(created["span_id"]) == 16


def test_uvicorn_serves_the_app_factory_like_the_image(unused_port, tmp_path):
    """Start the exact command the Dockerfile runs and talk to it over real HTTP."""
    cmd = image_command(SERVICE_ROOT / "Dockerfile", 8000)
    assert cmd[:5] == ["python3", "-m", "uvicorn", "--factory", "orders_api.app:create_app"]
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "JWT_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join([str(SERVICE_ROOT), str(KIT_ROOT)]),  # the image's /app
    }
    with Served(on_loopback(cmd, unused_port), env, tmp_path, unused_port) as server:
        assert httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{server.url}/orders", timeout=5).status_code == 401
    lines = json_lines(server.output)  # every line is JSON
    messages = [line["msg"] for line in lines]
    assert "orders-api started" in messages and "orders-api stopped" in messages
    assert any(m.startswith("Uvicorn running on") for m in messages)
    assert any(line.get("status") == 401 and line.get("path") == "/orders" for line in lines)
    # one access log line per request, the app's own; probes are at DEBUG, so absent at INFO
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    access = [(line["path"], line["status"]) for line in lines if line["msg"] == "request"]
    assert access == [("/orders", 401)]
