"""fx_service_kit.tracing: propagation formats and both exporters, against local listeners."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from fx_service_kit import tracing
from fx_service_kit.tracing import SERVER, Tracer, client_span, exporters_from_env, inject, parse_context


def test_trace_ids_are_xray_compatible():
    trace_id = tracing.new_trace_id()
    assert len(trace_id) == 32 and abs(int(trace_id[:8], 16) - time.time()) < 5
    assert tracing.xray_trace_id(trace_id) == f"1-{trace_id[:8]}-{trace_id[8:]}"


def test_parse_w3c_and_xray_headers():
    tid, sid = "5f0000001234567890abcdef12345678", "1234567890abcdef"
    assert parse_context({"traceparent": f"00-{tid}-{sid}-01"}) == (tid, sid, True)
    assert parse_context({"traceparent": f"00-{tid}-{sid}-00"}) == (tid, sid, False)
    amzn = f"Root=1-{tid[:8]}-{tid[8:]};Parent={sid};Sampled=1"
    assert parse_context({"x-amzn-trace-id": amzn}) == (tid, sid, True)
    for bad in ("00-zz-1-01", f"00-{'0' * 32}-{sid}-01", "garbage"):
        assert parse_context({"traceparent": bad}) == (None, None, True)


def test_inject_writes_both_formats_for_the_current_span():
    tracer = Tracer("svc")
    headers = {}
    inject(headers)
    assert headers == {}  # no request, no context
    root = tracer.start("GET /x", SERVER)
    with tracer.activate(root):
        with client_span("call") as span:
            inject(headers)
    assert headers["traceparent"] == f"00-{root.trace_id}-{span.span_id}-01"
    assert headers["X-Amzn-Trace-Id"] == f"Root={tracing.xray_trace_id(root.trace_id)};Parent={span.span_id};Sampled=1"
    assert root.children == [span] and span.parent_id == root.span_id


class Udp:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]

    def documents(self, n):
        docs = []
        for _ in range(n):
            header, body = self.sock.recv(65536).decode().split("\n", 1)
            assert json.loads(header) == {"format": "json", "version": 1}
            docs.append(json.loads(body))
        return docs


def test_xray_exporter_sends_a_segment_with_subsegments_over_udp():
    udp = Udp()
    (exporter,) = exporters_from_env({"AWS_XRAY_DAEMON_ADDRESS": udp.address}, {})
    tracer = Tracer("orders-api", [exporter])
    root = tracer.start("POST /orders", SERVER, attributes={"http.method": "POST"})
    with tracer.activate(root):
        root.attributes["http.status"] = 201
        with client_span("inventory-api reserve", {"http.url": "http://inv/x", "http.method": "POST"}) as span:
            span.attributes["http.status"] = 201
    (segment,) = udp.documents(1)
    assert segment["trace_id"] == tracing.xray_trace_id(root.trace_id) and segment["id"] == root.span_id
    assert segment["name"] == "orders-api" and segment["http"]["response"]["status"] == 201
    (sub,) = segment["subsegments"]
    assert sub["id"] == span.span_id and sub["namespace"] == "remote" and sub["http"]["request"]["url"] == "http://inv/x"


def test_otlp_exporter_posts_json_spans_to_the_configured_endpoint():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.path, self.headers["Content-Type"],
                             json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}
        (exporter,) = exporters_from_env(env, {"service.name": "inventory-api"})
        tracer = Tracer("inventory-api", [exporter])
        root = tracer.start("GET /inventory/{sku}", SERVER, parent_id="1234567890abcdef")
        with tracer.activate(root):
            pass
        tracer.shutdown()  # flushes
    finally:
        server.shutdown()
    (path, content_type, body), = received
    assert path == "/v1/traces" and content_type == "application/json"
    (resource_spans,) = body["resourceSpans"]
    assert {"key": "service.name", "value": {"stringValue": "inventory-api"}} in resource_spans["resource"]["attributes"]
    (span,) = resource_spans["scopeSpans"][0]["spans"]
    assert (span["traceId"], span["spanId"], span["parentSpanId"], span["kind"]) == (
        root.trace_id, root.span_id, "1234567890abcdef", 2)


def test_exporter_selection():
    assert exporters_from_env({}, {}) == []
    assert exporters_from_env({"OTEL_SDK_DISABLED": "true", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}, {}) == []
    assert exporters_from_env({"OTEL_TRACES_EXPORTER": "none", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}, {}) == []
    kinds = [type(e).__name__ for e in exporters_from_env({"OTEL_TRACES_EXPORTER": "xray"}, {})]
    assert kinds == ["XRayExporter"]
