"""Request tracing with what Debian bookworm ships: spans for every request and
outgoing call, W3C `traceparent` and X-Ray `X-Amzn-Trace-Id` propagation, and
export to what the platform provides.

Debian packages no OpenTelemetry for Python, so spans are kept here and exported by:
- `OtlpExporter`: OTLP/HTTP with the JSON encoding, batched from a background
  thread, to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
  + `/v1/traces` (the CloudWatch agent's OTLP receiver; FxMicroservice sets the
  endpoint);
- `XRayExporter`: X-Ray segment documents over UDP to `AWS_XRAY_DAEMON_ADDRESS`
  (the CloudWatch agent's or X-Ray daemon's UDP 2000), built and sent with
  Debian's `python3-aws-xray-sdk`.

Trace ids are X-Ray compatible (the first 8 hex digits are the epoch seconds), so
one id is the same trace in both formats. `OTEL_SDK_DISABLED=true` turns tracing
off; `OTEL_TRACES_EXPORTER` (comma list of `otlp`, `xray`, `none`) picks exporters
explicitly, by default each one whose address is configured.
"""

import json
import logging
import os
import queue
import re
import threading
import time
import urllib.request
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, MutableMapping, Optional, Sequence, Tuple

log = logging.getLogger(__name__)

SERVER, CLIENT, INTERNAL = "server", "client", "internal"
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_XRAY_ROOT = re.compile(r"^1-([0-9a-f]{8})-([0-9a-f]{24})$")


def new_trace_id() -> str:
    return format(int(time.time()), "08x") + os.urandom(12).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


def xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


@dataclass
class Span:
    tracer: "Tracer"
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    sampled: bool = True
    start: float = field(default_factory=time.time)
    end: Optional[float] = None
    attributes: Dict[str, Any] = field(default_factory=dict)
    error: bool = False
    # The request's server span collects every span started under it, for export in one piece.
    root: Optional["Span"] = None
    children: List["Span"] = field(default_factory=list)


_current: ContextVar[Optional[Span]] = ContextVar("fx_current_span", default=None)


def current_span() -> Optional[Span]:
    return _current.get()


def parse_context(headers: Mapping[str, str]) -> Tuple[Optional[str], Optional[str], bool]:
    """(trace id, parent span id, sampled) from `traceparent` or `X-Amzn-Trace-Id`; Nones when absent or malformed."""
    match = _TRACEPARENT.match(headers.get("traceparent", "").strip())
    if match and match[1] != "0" * 32 and match[2] != "0" * 16:
        return match[1], match[2], bool(int(match[3], 16) & 1)
    amzn = headers.get("x-amzn-trace-id", "")
    parts = dict(p.split("=", 1) for p in amzn.split(";") if "=" in p)
    root = _XRAY_ROOT.match(parts.get("Root", "").strip())
    if root:
        parent = parts.get("Parent", "").strip()
        return root[1] + root[2], parent if re.fullmatch(r"[0-9a-f]{16}", parent) else None, parts.get("Sampled") != "0"
    return None, None, True


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current span's context to outgoing request headers (both formats)."""
    span = _current.get()
    if span is None:
        return
    flag = "01" if span.sampled else "00"
    headers["traceparent"] = f"00-{span.trace_id}-{span.span_id}-{flag}"
    headers["X-Amzn-Trace-Id"] = (
        f"Root={xray_trace_id(span.trace_id)};Parent={span.span_id};Sampled={'1' if span.sampled else '0'}"
    )


class Exporter:
    def export(self, spans: Sequence[Span]) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        pass


class Tracer:
    def __init__(self, service_name: str, exporters: Sequence[Exporter] = (), resource: Optional[Dict[str, str]] = None):
        self.service_name = service_name
        self.exporters = list(exporters)
        self.resource = {"service.name": service_name, **(resource or {})}

    def start(
        self,
        name: str,
        kind: str,
        trace_id: Optional[str] = None,
        parent_id: Optional[str] = None,
        sampled: bool = True,
        attributes: Optional[Dict[str, Any]] = None,
    ) -> Span:
        parent = _current.get()
        if parent is not None and trace_id is None:
            span = Span(self, name, kind, parent.trace_id, new_span_id(), parent.span_id, parent.sampled,
                        attributes=dict(attributes or {}), root=parent.root or parent)
        else:
            span = Span(self, name, kind, trace_id or new_trace_id(), new_span_id(), parent_id, sampled,
                        attributes=dict(attributes or {}))
        return span

    def finish(self, span: Span) -> None:
        span.end = time.time()
        if span.root is not None:
            span.root.children.append(span)
            return
        if not span.sampled:
            return
        for exporter in self.exporters:
            try:
                exporter.export([span, *span.children])
            except Exception:  # noqa: BLE001 - tracing must never fail a request
                log.exception("span export failed")

    def shutdown(self) -> None:
        for exporter in self.exporters:
            exporter.shutdown()

    @contextmanager
    def activate(self, span: Span) -> Iterator[Span]:
        token = _current.set(span)
        try:
            yield span
        except BaseException:
            span.error = True
            raise
        finally:
            _current.reset(token)
            self.finish(span)


@contextmanager
def client_span(name: str, attributes: Optional[Dict[str, Any]] = None) -> Iterator[Optional[Span]]:
    """A child span for an outgoing call under the current request's span; a no-op outside a request."""
    parent = _current.get()
    if parent is None:
        yield None
        return
    span = parent.tracer.start(name, CLIENT, attributes=attributes)
    with parent.tracer.activate(span):
        yield span


# -- exporters ---------------------------------------------------------------------

_KIND_CODES = {INTERNAL: 1, SERVER: 2, CLIENT: 3}


def _otlp_value(value: Any) -> Dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _otlp_attributes(attrs: Mapping[str, Any]) -> List[Dict[str, Any]]:
    return [{"key": k, "value": _otlp_value(v)} for k, v in attrs.items()]


def otlp_span(span: Span) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": _KIND_CODES[span.kind],
        "startTimeUnixNano": str(int(span.start * 1e9)),
        "endTimeUnixNano": str(int((span.end or span.start) * 1e9)),
        "attributes": _otlp_attributes(span.attributes),
        "status": {"code": 2 if span.error else 0},
    }
    if span.parent_id:
        doc["parentSpanId"] = span.parent_id
    return doc


class OtlpExporter(Exporter):
    """OTLP/HTTP JSON, batched by a daemon thread; drops spans (logged) when the queue is full."""

    def __init__(self, endpoint: str, resource: Mapping[str, str], interval: float = 1.0, max_queue: int = 2048):
        self.endpoint = endpoint
        self.resource = dict(resource)
        self.interval = interval
        self._queue: "queue.Queue[Optional[Span]]" = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="otlp-exporter", daemon=True)
        self._thread.start()

    def export(self, spans: Sequence[Span]) -> None:
        for span in spans:
            try:
                self._queue.put_nowait(span)
            except queue.Full:
                log.warning("trace queue full: span dropped")

    def _post(self, batch: List[Span]) -> None:
        body = {
            "resourceSpans": [{
                "resource": {"attributes": _otlp_attributes(self.resource)},
                "scopeSpans": [{"scope": {"name": "fx_service_kit.tracing"}, "spans": [otlp_span(s) for s in batch]}],
            }]
        }
        request = urllib.request.Request(
            self.endpoint, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 - configured endpoint
                resp.read()
        except Exception as exc:  # noqa: BLE001
            log.warning("trace export failed", extra={"endpoint": self.endpoint, "error": repr(exc), "spans": len(batch)})

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: List[Span] = []
            deadline = time.monotonic() + self.interval
            while len(batch) < 512:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            if batch:
                self._post(batch)

    def shutdown(self) -> None:
        try:
            self._queue.put(None, timeout=1)
        except queue.Full:
            pass
        self._thread.join(timeout=5)


class XRayExporter(Exporter):
    """One X-Ray segment per request (its outgoing calls as subsegments), sent over UDP."""

    def __init__(self, address: str) -> None:
        from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter

        self.emitter = UDPEmitter(address)

    def export(self, spans: Sequence[Span]) -> None:
        from aws_xray_sdk.core.models.segment import Segment
        from aws_xray_sdk.core.models.subsegment import Subsegment

        root = spans[0]
        segment = Segment(root.tracer.service_name, entityid=root.span_id,
                          traceid=xray_trace_id(root.trace_id), parent_id=root.parent_id)
        segment.start_time = root.start
        for key in ("method", "url", "client_ip", "user_agent"):
            if f"http.{key}" in root.attributes:
                segment.put_http_meta(key, root.attributes[f"http.{key}"])
        if "http.status" in root.attributes:
            segment.put_http_meta("status", root.attributes["http.status"])
        entities: Dict[str, Any] = {root.span_id: segment}
        opened: List[Tuple[Any, Optional[float]]] = []
        for span in sorted(spans[1:], key=lambda s: s.start):
            parent = entities.get(span.parent_id or "", segment)
            sub = Subsegment(span.name, "remote", segment)
            sub.id = span.span_id
            sub.start_time = span.start
            if "http.url" in span.attributes:
                sub.put_http_meta("url", span.attributes["http.url"])
                sub.put_http_meta("method", span.attributes.get("http.method", ""))
            if "http.status" in span.attributes:
                sub.put_http_meta("status", span.attributes["http.status"])
            if span.error:
                sub.add_fault_flag()
            parent.add_subsegment(sub)
            entities[span.span_id] = sub
            opened.append((sub, span.end))
        for sub, end in reversed(opened):  # children before their parents: a closed entity takes no children
            sub.close(end)
        if root.error or int(root.attributes.get("http.status", 200)) >= 500:
            segment.add_fault_flag()
        segment.close(root.end)
        self.emitter.send_entity(segment)


def exporters_from_env(env: Mapping[str, str], resource: Mapping[str, str]) -> List[Exporter]:
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return []
    otlp = (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "").strip()
    if not otlp and (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip():
        otlp = env["OTEL_EXPORTER_OTLP_ENDPOINT"].strip().rstrip("/") + "/v1/traces"
    xray = (env.get("AWS_XRAY_DAEMON_ADDRESS") or "").strip()
    chosen = {n.strip() for n in (env.get("OTEL_TRACES_EXPORTER") or "").split(",") if n.strip()}
    if not chosen:
        chosen = {name for name, address in (("otlp", otlp), ("xray", xray)) if address}
    exporters: List[Exporter] = []
    if "otlp" in chosen:
        exporters.append(OtlpExporter(otlp or "http://localhost:4318/v1/traces", resource))
    if "xray" in chosen:
        exporters.append(XRayExporter(xray or "127.0.0.1:2000"))
    return exporters


def resource_from_env(env: Mapping[str, str], service_name: str) -> Dict[str, str]:
    resource = {}
    for item in (env.get("OTEL_RESOURCE_ATTRIBUTES") or "").split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            resource[key.strip()] = value.strip()
    resource["service.name"] = service_name
    return resource


def tracer_from_env(service_name: str, env: Optional[Mapping[str, str]] = None) -> Tracer:
    env = os.environ if env is None else env
    resource = resource_from_env(env, service_name)
    return Tracer(service_name, exporters_from_env(env, resource), resource)


class TracingMiddleware:
    """A server span per HTTP request (probes and scrapes excepted), continuing the caller's trace."""

    def __init__(self, app: Callable, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        trace_id, parent_id, sampled = parse_context(headers)
        span = self.tracer.start(
            f"{scope.get('method', '')} {scope.get('path', '')}", SERVER, trace_id=trace_id or new_trace_id(),
            parent_id=parent_id, sampled=sampled,
            attributes={"http.method": scope.get("method", ""), "http.url": scope.get("path", ""),
                        "http.client_ip": (scope.get("client") or ("", 0))[0]},
        )

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                span.attributes["http.status"] = message["status"]
            await send(message)

        with self.tracer.activate(span):
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if isinstance(route, str):
                    span.name = f"{scope.get('method', '')} {route}"
