"""OpenTelemetry tracing, enabled only when the opentelemetry packages are importable.

Debian bookworm does not package the OpenTelemetry SDK, so the default image
runs without it; an image that adds the packages gets traces with no code
change. Configuration is the standard OTEL_* environment (for example
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_SDK_DISABLED).
"""

import logging
import os
from typing import Any

log = logging.getLogger(__name__)


def setup_tracing(app: Any, service_name: str) -> bool:
    """Instrument the app; return True when tracing is active."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        log.info("tracing disabled by OTEL_SDK_DISABLED")
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.info("tracing disabled: opentelemetry not installed", extra={"missing": exc.name})
        return False

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    # The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and friends itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )
    try:
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    except ImportError:
        pass
    else:
        PsycopgInstrumentor().instrument(tracer_provider=provider)
    app.router.on_shutdown.append(provider.shutdown)
    log.info("tracing enabled", extra={"service_name": service_name})
    return True
