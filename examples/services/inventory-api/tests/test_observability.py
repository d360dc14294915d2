import io
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
import uuid

import httpx

from conftest import SECRET, SERVICE_ROOT, bearer, make_token
from inventory_api.logs import JsonFormatter, configure_logging, request_id_var


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
    assert "# TYPE inventory_units gauge" in resp.text
    assert "process_cpu_seconds_total" in resp.text


def test_requests_are_counted_by_route_template_and_status(client, auth):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/inventory/WIDGET-42", headers=auth)  # 200
    client.get("/inventory/NOPE-1", headers=auth)  # 404
    client.get("/inventory/GADGET-7")  # 401
    client.get("/inventory/lower-case", headers=auth)  # 422
    created = client.post("/inventory/WIDGET-42/reservations", json={"quantity": 2}, headers=auth)  # 201
    client.post("/inventory/GADGET-7/reservations", json={"quantity": 99}, headers=auth)  # 409
    client.delete(f"/inventory/reservations/{created.json()['id']}", headers=auth)  # 204
    client.delete(f"/inventory/reservations/{uuid.uuid4()}", headers=auth)  # 404
    client.get("/no/such/path")

    text = client.get("/metrics").text

    def requests(method, route, status):
        return sample(text, "http_requests_total", method=method, route=route, status=status)

    assert requests("GET", "/healthz", "200") == 2
    assert requests("GET", "/inventory/{sku}", "200") == 1
    assert requests("GET", "/inventory/{sku}", "404") == 1
    assert requests("GET", "/inventory/{sku}", "401") == 1
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
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 3}, headers=auth)
    client.get("/inventory/NOT-SEEDED", headers=auth)
    text = client.get("/metrics").text
    assert sample(text, "inventory_units", sku="WIDGET-42", state="available") == 7
    assert sample(text, "inventory_units", sku="WIDGET-42", state="reserved") == 3
    assert sample(text, "inventory_units", sku="GADGET-7", state="available") == 3
    assert sample(text, "inventory_reservations_open") == 1
    assert 'sku="NOT-SEEDED"' not in text  # requests never add label values


def test_json_formatter_includes_extras_and_request_id():
    record = logging.LogRecord("inventory_api", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.sku = "WIDGET-42"
    token = request_id_var.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world"
    assert line["level"] == "warning"
    assert line["logger"] == "inventory_api"
    assert line["sku"] == "WIDGET-42"
    assert line["request_id"] == "req-1"
    assert line["ts"].endswith("Z")


def test_requests_produce_json_logs(client, auth):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    headers = {**bearer(make_token(sub="orders-api")), "X-Request-ID": "trace-me"}
    resp = client.post("/inventory/WIDGET-42/reservations", json={"quantity": 2}, headers=headers)
    assert resp.status_code == 201
    client.post("/inventory/WIDGET-42/reservations", json={"quantity": 50}, headers=headers)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    created = next(line for line in lines if line["msg"] == "reservation created")
    assert created["request_id"] == "trace-me" and created["subject"] == "orders-api"
    assert created["reservation_id"] == resp.json()["id"] and created["quantity"] == 2
    refused = next(line for line in lines if line["msg"] == "reservation refused")
    assert (refused["requested"], refused["available"]) == (50, 8)
    access = next(line for line in lines if line["msg"] == "request")
    assert access["route"] == "/inventory/{sku}/reservations" and access["status"] == 201
    assert access["method"] == "POST" and access["request_id"] == "trace-me" and access["duration_ms"] >= 0


def image_command() -> list:
    """The Dockerfile's CMD (exec form), and a check of what the image promises."""
    dockerfile = (SERVICE_ROOT / "Dockerfile").read_text()
    joined = dockerfile.replace("\\\n", " ")
    match = re.search(r"^CMD (\[.*\])\s*$", joined, re.MULTILINE)
    assert match, "no exec-form CMD in the Dockerfile"
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE)
    assert re.search(r"^EXPOSE 8080$", dockerfile, re.MULTILINE)
    return json.loads(match[1])


def test_uvicorn_serves_the_app_factory_like_the_image(unused_port, tmp_path):
    """Start the exact command the Dockerfile runs and talk to it over real HTTP."""
    cmd = image_command()
    assert cmd[:5] == ["python3", "-m", "uvicorn", "--factory", "inventory_api.app:create_app"]
    assert cmd[cmd.index("--port") + 1] == "8080" and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    cmd[0] = sys.executable
    cmd[cmd.index("--port") + 1] = str(unused_port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"

    key_file = tmp_path / "jwt-secret"  # as a mounted Kubernetes secret
    key_file.write_text(SECRET)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "INVENTORY_"))}
    env.update(
        JWT_SECRET_FILE=str(key_file),
        INVENTORY_SEED='{"BOLT-M8": 2}',
        PYTHONPATH=str(SERVICE_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
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
            assert proc.poll() is None, f"uvicorn exited early: {shlex.join(cmd)}"
            assert time.monotonic() < deadline, "uvicorn did not come up"
            time.sleep(0.2)
        auth = bearer(make_token())
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{base}/inventory/BOLT-M8", timeout=5).status_code == 401
        assert httpx.get(f"{base}/inventory/BOLT-M8", headers=auth, timeout=5).json()["available"] == 2
        resp = httpx.post(f"{base}/inventory/BOLT-M8/reservations", json={"quantity": 3}, headers=auth, timeout=5)
        assert resp.status_code == 409
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
    messages = [line["msg"] for line in lines]
    assert "inventory-api started" in messages and "inventory-api stopped" in messages
    assert any(m.startswith("Uvicorn running on") for m in messages)
    assert any(line.get("status") == 401 and line.get("route") == "/inventory/{sku}" for line in lines)
    # one access log line per request, the app's own; probes are at DEBUG, so absent at INFO
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    access = [(line["path"], line["status"]) for line in lines if line["msg"] == "request"]
    assert access == [("/inventory/BOLT-M8", 401), ("/inventory/BOLT-M8", 200), ("/inventory/BOLT-M8/reservations", 409)]
    assert list(tmp_path.iterdir()) == [key_file]  # nothing written to the working directory
