import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid

import httpx

from conftest import DATABASE_URL, SECRET, SERVICE_ROOT, VALID_ORDER
from orders_api.logs import JsonFormatter, configure_logging, request_id_var
from orders_api.tracing import setup_tracing


def sample(metrics_text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in metrics_text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[3] or ""))
        if found == labels:
            return float(match[4])
    return 0.0


def test_metrics_endpoint_exposes_prometheus_text(client):
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE http_requests_total counter" in resp.text
    assert "# TYPE http_request_duration_seconds histogram" in resp.text
    assert "process_cpu_seconds_total" in resp.text


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
    assert sample(text, "http_requests_total", method="GET", route="/orders/{order_id}", status="401") == 1
    assert sample(text, "http_requests_total", method="POST", route="/orders", status="201") == 1
    assert sample(text, "http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    # raw ids never become label values
    assert not re.search(r'route="/orders/[0-9a-f]{8}-', text)
    assert sample(text, "http_request_duration_seconds_count", method="GET", route="/healthz", status="200") == 2
    assert sample(text, "orders_created_total") == 1


def test_json_formatter_includes_extras_and_request_id():
    record = logging.LogRecord("orders_api", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.order_id = "o-1"
    token = request_id_var.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world"
    assert line["level"] == "warning"
    assert line["logger"] == "orders_api"
    assert line["order_id"] == "o-1"
    assert line["request_id"] == "req-1"
    assert line["ts"].endswith("Z")


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


def test_uvicorn_access_log_stays_off_after_configure_logging():
    """The app logs each request itself; uvicorn's access logger must not reach the root handler.

    uvicorn decides per connection with `hasHandlers()`, which follows `propagate`
    up to the root: a propagating uvicorn.access would undo --no-access-log.
    """
    stream = io.StringIO()
    access = logging.getLogger("uvicorn.access")
    access.propagate = True  # as uvicorn leaves it without --no-access-log
    configure_logging("INFO", stream=stream)
    assert not access.hasHandlers()
    access.info('127.0.0.1:1234 - "GET /orders HTTP/1.1" 401')
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://127.0.0.1:8000")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error"]  # still routed, as JSON


def test_tracing_is_off_without_opentelemetry(client):
    try:
        import opentelemetry.sdk.trace  # noqa: F401
        import opentelemetry.instrumentation.fastapi  # noqa: F401
        import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
    except ImportError:
        assert client.app.state.tracing is False
    else:  # an environment that ships the SDK gets instrumented
        assert client.app.state.tracing is True


def test_tracing_can_be_disabled_explicitly(monkeypatch, client):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert setup_tracing(client.app, "orders-api") is False


def test_uvicorn_serves_the_app_factory_like_the_image(unused_port):
    """Start the exact command the Dockerfile runs and talk to it over real HTTP."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "JWT_SECRET": SECRET, "PYTHONPATH": str(SERVICE_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "orders_api.app:create_app",
         "--host", "127.0.0.1", "--port", str(unused_port), "--no-access-log"],
        cwd=SERVICE_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{unused_port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "uvicorn exited early"
            assert time.monotonic() < deadline, "uvicorn did not come up"
            time.sleep(0.2)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{base}/orders", timeout=5).status_code == 401
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
    messages = [line["msg"] for line in lines]
    assert "orders-api started" in messages and "orders-api stopped" in messages
    assert any(m.startswith("Uvicorn running on") for m in messages)
    assert any(line.get("status") == 401 and line.get("route") == "/orders" for line in lines)
    # one access log line per request, the app's own; probes are at DEBUG, so absent at INFO
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    access = [(line["path"], line["status"]) for line in lines if line["msg"] == "request"]
    assert access == [("/orders", 401)]
