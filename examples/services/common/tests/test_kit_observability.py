"""fx_service_kit.observability: HTTP metrics by route template, request ids, access log levels."""

import io
import json
import re

from conftest import make_token
from fx_service_kit.logs import configure_logging
from fx_service_kit.observability import HttpMetrics
from fx_service_kit.testing import bearer, sample


def test_each_http_metrics_has_its_own_registry():
    first, second = HttpMetrics(), HttpMetrics()
    first.requests.labels("GET", "/x", "200").inc()
    first_text, second_text = first.exposition().decode(), second.exposition().decode()
    assert sample(first_text, "http_requests_total", method="GET", route="/x", status="200") == 1
    assert sample(second_text, "http_requests_total", method="GET", route="/x", status="200") == 0
    assert first.content_type.startswith("text/plain; version=0.0.4")
    for metric in ("http_request_duration_seconds histogram", "http_requests_in_progress gauge"):
        assert f"# TYPE {metric}" in second_text
    assert "process_cpu_seconds_total" in second_text


def test_requests_are_counted_by_route_template_and_status(client):
    auth = bearer(make_token())
    client.get("/healthz")
    client.get("/items/7", headers=auth)
    client.get("/items/8", headers=auth)
    client.get("/items/9")  # 401
    client.get("/items/nine", headers=auth)  # 422
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert sample(text, "http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert sample(text, "http_requests_total", method="GET", route="/items/{item_id}", status="200") == 2
    assert sample(text, "http_requests_total", method="GET", route="/items/{item_id}", status="401") == 1
    assert sample(text, "http_requests_total", method="GET", route="/items/{item_id}", status="422") == 1
    assert sample(text, "http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert not re.search(r'route="/items/\d', text)  # raw ids never become label values
    count = sample(text, "http_request_duration_seconds_count", method="GET", route="/items/{item_id}", status="200")
    assert count == 2
    assert sample(text, "http_requests_in_progress") == 1  # the /metrics request itself


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    for bad in ("x" * 129, "tab\there"):
        replaced = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_access_log_carries_route_and_request_id_and_probes_are_quiet(client):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    client.get("/healthz")  # DEBUG: absent at INFO
    client.get("/items/5", headers={**bearer(make_token()), "X-Request-ID": "trace-me"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    item = next(line for line in lines if line["msg"] == "item read")
    assert item["request_id"] == "trace-me" and item["item_id"] == 5
    access = [line for line in lines if line["msg"] == "request"]
    assert len(access) == 1
    assert access[0]["logger"] == "kit_test.access"
    assert access[0]["route"] == "/items/{item_id}" and access[0]["path"] == "/items/5"
    assert access[0]["status"] == 200 and access[0]["method"] == "GET"
    assert access[0]["request_id"] == "trace-me" and access[0]["duration_ms"] >= 0
